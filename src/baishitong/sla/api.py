from datetime import date

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.bounds import FIRST_YEAR, LAST_YEAR
from baishitong.deps import get_db_session
from baishitong.org.api import require_roles
from baishitong.sla import service
from baishitong.sla.calendar import DayKind

router = APIRouter(prefix="/api/v1/sla", tags=["时限"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SlaPolicyIn(Strict):
    rules: list[dict]
    working_hours: list[list[str]] | None = None
    warning_share: float | None = Field(default=None, gt=0, lt=1)
    restart_on_redispatch: bool | None = Field(default=None, description="退单改派或签收前改派给其他单位时，时限自改派起重新计算；不给出则沿用当前版本")
    pause_during_review: bool | None = Field(default=None, description="承办单位申请延期或退单后，等待中心审核的时间不计入其时限；不给出则沿用当前版本")
    pause_needs_approval: bool | None = Field(default=None, description="承办单位暂停计时须经督办员同意，同意后才停止计时；不给出则沿用当前版本")
    clock_from_dispatch: bool | None = Field(default=None, description="承办单位的联系、答复时限自工单首次派单起计算，待派单等候时间不计入承办单位；办结时限仍自受理起算；不给出则沿用当前版本")
    note: str | None = Field(default=None, max_length=200)
    base_version: int | None = Field(default=None, description="编辑开始时读取到的 version；给出时，他人已保存新版本则返回 409")


class DayIn(Strict):
    kind: DayKind | None = Field(description="；".join(f"{kind}：{label}" for kind, label in service.DAY_KIND_LABELS.items()) + "；null：恢复按周一至周五计算")
    name: str = Field(default="", max_length=64)


def policy_out(policy) -> dict:
    return {
        "version": policy.version,
        "rules": policy.rules,
        "working_hours": policy.working_hours,
        "warning_share": policy.warning_share,
        "restart_on_redispatch": policy.restart_on_redispatch,
        "pause_during_review": policy.pause_during_review,
        "pause_needs_approval": policy.pause_needs_approval,
        "clock_from_dispatch": policy.clock_from_dispatch,
        "note": policy.note,
        "created_by": policy.created_by,
        "created_at": policy.created_at,
    }


@router.get("/policy")
def get_policy(actor: Actor = Depends(require_roles("operator", "supervisor", "admin", "handler", "unit_admin")), session: Session = Depends(get_db_session)):
    return policy_out(service.current_policy(session))


@router.put("/policy")
def save_policy(data: SlaPolicyIn, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    saved = service.save_policy(
        session,
        rules=data.rules,
        working_hours=data.working_hours,
        warning_share=data.warning_share,
        restart_on_redispatch=data.restart_on_redispatch,
        pause_during_review=data.pause_during_review,
        pause_needs_approval=data.pause_needs_approval,
        clock_from_dispatch=data.clock_from_dispatch,
        actor=actor,
        note=data.note,
        base_version=data.base_version,
    )
    return policy_out(saved)


@router.get("/calendar/{year}")
def calendar(year: int = Path(ge=FIRST_YEAR, le=LAST_YEAR), actor: Actor = Depends(require_roles("operator", "supervisor", "admin", "handler", "unit_admin")), session: Session = Depends(get_db_session)):
    known = service.business_calendar(session).is_known(date(year, 1, 1))
    return {"year": year, "known": known, "days": [{"day": d.day, "kind": d.kind, "name": d.name, "source": d.source} for d in service.calendar_days(session, year=year)]}


@router.put("/calendar/days/{day}")
def set_day(day: date, data: DayIn, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    kind = data.kind.value if data.kind else None
    service.set_calendar_day(session, day=day, kind=kind, name=data.name, actor=actor)
    return {"day": day, "kind": kind, "name": data.name}
