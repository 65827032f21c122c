"""Routing decisions on work orders (filled in by the routing engine)."""

from sqlalchemy.orm import Session


def region_for(session: Session, *, address, location):
    return None


def on_ticket_registered(session: Session, *, ticket) -> None:
    return None


def latest_decision_out(session: Session, *, ticket):
    return None
