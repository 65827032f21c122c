from pydantic import BaseModel, ConfigDict, Field

from baishitong.org.models import CATEGORY_CODE_PATTERN, USERNAME_PATTERN

# Codes are short (service.UNIT_CODE, CATEGORY_CODE_PATTERN): a longer one sent as a parent or a user's unit was looked
# up and echoed whole in the refusal that said it did not exist, a megabyte for a megabyte.
UNIT_CODE_MAX, CATEGORY_CODE_MAX = 32, 16


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    parent: str | None
    state: str = Field(description="单位当前内容的指纹；修改时作为 base_state 传回")


class UnitIn(BaseModel):
    """The unit's code comes from the URL; PUT creates or updates."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(max_length=32)
    parent: str | None = Field(default=None, max_length=UNIT_CODE_MAX)
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True
    region: str | None = Field(default=None, max_length=16, description="镇街或村居的区划代码")
    base_state: str | None = Field(default=None, max_length=64, description="读取单位时得到的 state；给出时，他人已修改则返回 409")


class RegionOut(BaseModel):
    code: str
    name: str
    short_name: str
    kind: str
    parent: str | None
    aliases: list[str]
    lat: float | None
    lon: float | None


class CategoryOut(BaseModel):
    code: str
    name: str
    level: int
    parent: str | None
    path: str
    active: bool


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(pattern=f"^{CATEGORY_CODE_PATTERN}$")
    name: str = Field(min_length=1, max_length=64)
    parent: str | None = Field(default=None, max_length=CATEGORY_CODE_MAX)
    active: bool = True


class LoginIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class AccessTokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: dict


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(pattern=f"^{USERNAME_PATTERN}$")
    password: str = Field(min_length=8, max_length=256)
    role: str = Field(max_length=32)
    unit: str | None = Field(default=None, max_length=UNIT_CODE_MAX)
    display_name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32, description="工作电话（手机或含区号的固定电话）")


class UserPatch(BaseModel):
    """Only the fields given change; `phone` "" clears the phone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    role: str | None = Field(default=None, max_length=32)
    unit: str | None = Field(default=None, max_length=UNIT_CODE_MAX)
    password: str | None = Field(default=None, min_length=8, max_length=256, description="新密码；该用户的登录会话和令牌随即失效")
    base_state: str | None = Field(default=None, max_length=64, description="读取用户时得到的 state；给出时，他人已修改则返回 409")


class UserOut(BaseModel):
    username: str
    display_name: str
    phone: str | None
    role: str
    unit: str | None
    active: bool
    state: str = Field(description="账号当前内容的指纹；修改时作为 base_state 传回")
    released_orders: list[str] = Field(default=[], description="停用或调离本单位时，该承办人名下退回原单位“未指派”的未办结工单号")
