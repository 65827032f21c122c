from sqlalchemy.orm import Session

from baishitong.enterprise import alerts
from baishitong.jobs.registry import job


@job("enterprise.policy_alerts")
def policy_alerts(session: Session, *, policy_id: int) -> None:
    alerts.send_alerts(session, policy_id=policy_id)
