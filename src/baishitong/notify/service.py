from sqlalchemy.orm import Session


def on_ticket_event(session: Session, *, ticket, event) -> None:
    return None
