"""Background work for appointments; every handler is idempotent."""

from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.jobs.registry import job
from baishitong.points import appointments
from baishitong.points.models import Appointment


@job("points.appointment_reminder")
def appointment_reminder(session: Session, *, appointment_id: int) -> None:
    appointment = session.get(Appointment, appointment_id)
    if appointment is not None:
        appointments.remind(session, appointment=appointment, now=clock.now())


@job("points.reminders")
def reminders(session: Session) -> None:
    appointments.send_reminders(session, now=clock.now())


@job("points.no_shows")
def no_shows(session: Session) -> None:
    appointments.mark_no_shows(session, now=clock.now())
