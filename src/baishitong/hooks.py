"""Where the ticket lifecycle meets the other domains (routing, deadlines, notifications).

The ticket service calls these at fixed points, so that tickets/ does not import
every other domain at module level and each domain stays testable on its own.
"""

from sqlalchemy.orm import Session

from baishitong.actors import Actor


def locate_region(session: Session, *, address: str | None, location):
    from baishitong.routing import service as routing

    return routing.region_for(session, address=address, location=location)


def require_point(session: Session, *, code: str) -> None:
    from baishitong.points import service as points

    points.get_point(session, code=code)


def ticket_registered(session: Session, *, ticket, actor: Actor, auto_dispatch: bool = True, lead_hint=None) -> None:
    from baishitong.routing import service as routing
    from baishitong.sla import service as sla
    from baishitong.tickets.states import CENTRE

    sla.start_clock(session, ticket=ticket)
    routing.on_ticket_registered(session, ticket=ticket, auto_dispatch=auto_dispatch, lead_hint=lead_hint, filed_by_centre=actor.role in CENTRE)


def ticket_transitioned(session: Session, *, ticket, event, actor: Actor) -> None:
    from baishitong.notify import service as notify
    from baishitong.sla import service as sla

    if event.action in sla.REVIEW_ACTIONS and event.action != "approve-extension":  # that one: extension_approved
        sla.review_changed(session, ticket=ticket)  # before the text that gives the unit its deadline
    notify.on_ticket_event(session, ticket=ticket, event=event)
    if event.action == "dispatch" and actor.role != "system":
        from baishitong.routing import service as routing

        routing.on_staff_dispatch(session, ticket=ticket, event=event)


def duplicate_answered(session: Session, *, ticket, unit: str | None) -> None:
    from baishitong.notify import service as notify

    notify.duplicate_answered(session, ticket=ticket, unit=unit)


def ticket_dispatched(session: Session, *, ticket, redispatch: bool) -> bool:
    """Whether the order's clock restarted (see sla.service.dispatched)."""
    from baishitong.sla import service as sla

    return sla.dispatched(session, ticket=ticket, redispatch=redispatch)


def extension_approved(session: Session, *, ticket, days: int) -> None:
    from baishitong.notify import service as notify
    from baishitong.sla import service as sla

    sla.extend_clock(session, ticket=ticket, days=days)
    notify.extension_granted(session, ticket=ticket)  # after the clock moved: the text gives the new deadline


def ticket_redone(session: Session, *, ticket, reason: str) -> None:
    from baishitong.notify import service as notify
    from baishitong.sla import service as sla

    sla.start_clock(session, ticket=ticket, redo=True)
    notify.redone(session, ticket=ticket, reason=reason)  # after the new clock: the text gives its deadline


def pause_needs_approval(session: Session) -> bool:
    from baishitong.sla import service as sla

    return sla.current_policy(session).pause_needs_approval


def clock_paused(session: Session, *, ticket, reason: str) -> None:
    from baishitong.sla import service as sla

    sla.pause(session, ticket=ticket, reason=reason)


def clock_resumed(session: Session, *, ticket) -> None:
    from baishitong.sla import service as sla

    sla.resume(session, ticket=ticket)
