"""One place for settings; every value can be set as BAISHITONG_<NAME>."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_SECRET = "demo-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAISHITONG_", env_file=".env", extra="ignore")

    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    demo_mode: bool = True
    secret_key: str = DEFAULT_SECRET
    token_ttl_minutes: int = 12 * 60
    staff_session_idle_minutes: int = 30

    # Background work: "sqlite" (file under var/), "redis", or "immediate" (tests).
    queue_backend: str = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Public intake protection.
    intake_rate_limit_per_minute: int = 30
    track_rate_limit_per_minute: int = 20
    # Open311 reads (services, requests, tokens, discovery): integrators poll status, so they are not held to a
    # citizen's tracking limit; a valid api_key gets the higher one, counted per key rather than per address.
    open311_read_rate_limit_per_minute: int = Field(default=60, gt=0)
    open311_api_key_read_rate_limit_per_minute: int = Field(default=600, gt=0)
    login_attempts_per_minute: int = 10

    # Routing: orders at or above this confidence are dispatched without review.
    auto_dispatch_threshold: float = 0.80

    # Knowledge search re-ranks BM25's best candidates with sentence vectors (text/embedding.py) when
    # the model is installed; false keeps it to BM25.
    dense_search: bool = True

    # Build the search indexes and load the router in the background when the app starts.
    warm_up: bool = True

    # The assistant hands over to a person below this confidence.
    assistant_threshold: float = 0.35

    # Where citizens reach the public pages; messages link to {public_url}/track. `serve` and `run`
    # default it to the address they listen on.
    public_url: str = "http://127.0.0.1:8000"

    sms_endpoint: str = ""
    wechat_endpoint: str = ""
    # Seconds a send waits to connect to the SMS or WeChat gateway, and for each read or write: a slow gateway costs
    # the message a retry (with backoff), not a notification thread held through a backlog.
    gateway_connect_timeout: float = Field(default=3.0, gt=0)
    gateway_read_timeout: float = Field(default=5.0, gt=0)
    # When the SMS gateway has taken a message: a 2xx answer with a JSON body, and, when a field is named
    # (dotted for nested ones, e.g. Response.Code), that field holding this value (true, 0, OK…).
    sms_success_field: str = ""
    sms_success_value: str = ""

    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""

    upload_max_bytes: int = 5 * 1024 * 1024
    # Any one request's body, files and imports included: bounds what an anonymous client can spool to disk.
    request_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)

    # 延期 granted per work order; a unit asking for more is refused and replies within its time limit. 0: no limit.
    max_extensions: int = Field(default=2, ge=0)

    # How long an Idempotency-Key answers a retry; the worker deletes older keys every hour.
    idempotency_retention_hours: int = Field(default=72, gt=0)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if not self.demo_mode and self.secret_key == DEFAULT_SECRET:
            raise ValueError("BAISHITONG_SECRET_KEY must be set when BAISHITONG_DEMO_MODE is off")
        return self

    @model_validator(mode="after")
    def _sms_success_pair(self) -> "Settings":
        if bool(self.sms_success_field) != bool(self.sms_success_value):
            raise ValueError("BAISHITONG_SMS_SUCCESS_FIELD and BAISHITONG_SMS_SUCCESS_VALUE must be set together")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'baishitong.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
