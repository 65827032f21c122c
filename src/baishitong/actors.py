"""Who is acting: a staff user, the requester (by number + phone), or the system."""

from dataclasses import dataclass

from baishitong.org.models import User


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    display_name: str
    user_id: int | None = None
    unit_id: int | None = None
    unit_code: str | None = None

    @classmethod
    def for_user(cls, user: User) -> "Actor":
        return cls(
            name=user.username,
            role=user.role,
            display_name=user.display_name,
            user_id=user.id,
            unit_id=user.unit_id,
            unit_code=user.unit.code if user.unit else None,
        )

    @property
    def is_unit_staff(self) -> bool:
        return self.role in ("handler", "unit_admin")


REQUESTER = Actor(name="requester", role="requester", display_name="诉求人")
SYSTEM = Actor(name="system", role="system", display_name="系统")
