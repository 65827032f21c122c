"""Slots from hours and the business calendar, booking rules, no-shows, reminders, and no overbooking under load."""

import threading
from datetime import date, datetime, timedelta

import httpx
import pytest

from baishitong import migrate
from baishitong.actors import SYSTEM
from baishitong.db import Database
from baishitong.errors import Conflict, InvalidInput, NotFound
from baishitong.points import appointments as booking
from baishitong.points import service
from baishitong.points.hours import SHUNDE_TZ
from baishitong.sla import service as sla
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.server import Server

POINT = "code,name,kind,address,lat,lon,town,hours,staff,slot_capacity\nAP-1,预约测试中心,town_centre,伦教大道1号,22.8402,113.1852,伦教,\"周一至周五 09:00-12:00,14:00-17:00\",5,{cap}\n"
NOW = datetime(2026, 10, 8, 9, 0, tzinfo=SHUNDE_TZ)  # Thursday, first workday after National Day


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHUNDE_TZ)


def add_point(session, cap: int | str = 2) -> None:
    sla.ensure_seeded(session)
    service.import_file(session, filename="p.csv", content=POINT.format(cap=cap).encode(), actor="t_admin")


@pytest.fixture
def point(session):
    add_point(session)
    return service.get_point(session, code="AP-1")


def book(session, start="2026-10-09T09:00", phone="13800138000", **kw):
    return booking.book(session, point_code="AP-1", slot_start=at(start), name="张三", phone=phone, now=kw.pop("now", NOW), **kw)[0]


def test_no_slots_on_national_day_and_weekday_slots_on_make_up_saturday(session, point):
    assert booking.day_slots(session, point=point, day=date(2026, 10, 1)) == []
    assert booking.day_slots(session, point=point, day=date(2026, 10, 17)) == []  # ordinary Saturday, no Saturday hours
    slots = booking.day_slots(session, point=point, day=date(2026, 10, 10))
    assert [s.start.isoformat() for s in slots[:2]] == ["2026-10-10T09:00:00+08:00", "2026-10-10T09:30:00+08:00"]
    assert len(slots) == 12 and all(s.capacity == 2 and s.remaining == 2 for s in slots)


def test_capacity_defaults_to_staff(session):
    add_point(session, cap="")
    slots = booking.day_slots(session, point=service.get_point(session, code="AP-1"), day=date(2026, 10, 9))
    assert slots[0].capacity == 5


def test_book_until_full_then_409(session, point):
    first = book(session)
    assert first.number.startswith("YY20261008") and first.status == "booked"
    book(session, phone="13900139000")
    with pytest.raises(Conflict) as err:
        book(session, phone="13700137000")
    assert err.value.code == "slot_full"
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[0].remaining == 0


@pytest.mark.parametrize(
    ("start", "code"),
    [("2026-10-09T09:10", "slot_unavailable"), ("2026-10-09T12:30", "slot_unavailable"), ("2026-10-01T09:00", "slot_in_past"), ("2026-10-08T08:30", "slot_in_past"), ("2026-10-12T09:00", None)],
)
def test_only_real_future_slots_can_be_booked(session, point, start, code):
    if code is None:
        book(session, start=start)
        return
    with pytest.raises(InvalidInput) as err:
        book(session, start=start)
    assert err.value.code == code


def test_holiday_slot_is_rejected(session, point):
    with pytest.raises(InvalidInput) as err:
        book(session, start="2026-10-01T09:00", now=datetime(2026, 9, 28, 9, tzinfo=SHUNDE_TZ))
    assert err.value.code == "slot_unavailable"


def test_a_booking_needs_a_mobile_it_can_be_texted_and_proven_with(session, point):
    for junk in ("-------", "+++++++", "1234567", "0757-22223333", "075722223333"):
        with pytest.raises(InvalidInput, match="请填写 11 位手机号码，预约确认和提醒以短信发送"):
            book(session, phone=junk)
    a = book(session, phone="+86 138 0013 8000")
    assert a.phone == "13800138000"
    assert booking.get_for_requester(session, number=a.number, phone="13800138000") is a
    assert booking.get_for_requester(session, number=a.number, phone="+8613800138000") is a


def test_cancel_and_reschedule_need_the_right_phone(session, point):
    a = book(session)
    with pytest.raises(NotFound):
        booking.cancel(session, number=a.number, phone="13000000000", now=NOW)
    with pytest.raises(NotFound):
        booking.reschedule(session, number=a.number, phone="13000000000", slot_start=at("2026-10-09T10:00"), now=NOW)
    moved = booking.reschedule(session, number=a.number, phone="138-0013-8000", slot_start=at("2026-10-09T10:00"), now=NOW)
    assert moved.slot_start == at("2026-10-09T10:00")
    remaining = {s.start.strftime("%H:%M"): s.remaining for s in booking.day_slots(session, point=point, day=date(2026, 10, 9))}
    assert remaining["09:00"] == 2 and remaining["10:00"] == 1
    booking.cancel(session, number=a.number, phone="13800138000", now=NOW)
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[2].remaining == 2
    with pytest.raises(Conflict):
        booking.cancel(session, number=a.number, phone="13800138000", now=NOW)


def test_new_years_day_of_a_year_without_a_published_schedule_is_closed(session, point):
    """2027's schedule is not out: its statutory holidays are estimated, so 元旦 (a Friday) is not bookable."""
    assert booking.day_slots(session, point=point, day=date(2027, 1, 1)) == []
    assert booking.day_slots(session, point=point, day=date(2027, 2, 9)) == []  # 春节 in lieu of the weekend
    assert len(booking.day_slots(session, point=point, day=date(2027, 1, 4))) == 12


def test_bookings_open_fourteen_days_ahead_and_no_further(session, point):
    assert book(session, start="2026-10-21T09:00").status == "booked"  # day 13 from Oct 8
    with pytest.raises(InvalidInput, match="只能预约 14 天内（10月21日前）的时段") as far:
        book(session, start="2026-10-22T09:00", phone="13900139000")
    assert far.value.code == "slot_too_far"
    with pytest.raises(InvalidInput, match="14 天内"):
        book(session, start="2028-12-04T09:00", phone="13700137000")


def test_one_phone_books_a_point_once_a_day(session, point):
    first = book(session, start="2026-10-09T09:00")
    with pytest.raises(Conflict, match=f"预约号 {first.number}") as again:
        book(session, start="2026-10-09T14:00", phone="138 0013 8000")
    assert again.value.code == "already_booked"
    assert book(session, start="2026-10-12T09:00").status == "booked"  # another day
    assert book(session, start="2026-10-09T14:00", phone="13900139000").status == "booked"  # another person
    booking.cancel(session, number=first.number, phone="13800138000", now=NOW)
    assert book(session, start="2026-10-09T14:30").status == "booked"  # the day is free again once cancelled
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[0].remaining == 2


@pytest.mark.parametrize("name", ["   ", "\u200b\u200b", "\u200f\ufeff \u2060"])
def test_a_name_of_spaces_or_invisible_characters_is_refused(session, point, name):
    """A zero-width space survives strip(): the counter would call a booking with no name to read."""
    with pytest.raises(InvalidInput, match="请填写预约人姓名"):
        booking.book(session, point_code="AP-1", slot_start=at("2026-10-09T09:00"), name=name, phone="13800138000", now=NOW)


def test_idempotent_booking(session, point):
    first, created = booking.book(session, point_code="AP-1", slot_start=at("2026-10-09T09:00"), name="张三", phone="13800138000", now=NOW, idempotency_key="k-1")
    again, created_again = booking.book(session, point_code="AP-1", slot_start=at("2026-10-09T09:00"), name="张三", phone="13800138000", now=NOW, idempotency_key="k-1")
    assert created and not created_again and again.number == first.number
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[0].remaining == 1
    with pytest.raises(Conflict):
        booking.book(session, point_code="AP-1", slot_start=at("2026-10-09T09:30"), name="张三", phone="13800138000", now=NOW, idempotency_key="k-1")


def test_check_in_only_on_the_day(session, point):
    a = book(session)
    with pytest.raises(InvalidInput):
        booking.check_in(session, number=a.number, now=NOW, actor=SYSTEM)
    assert booking.check_in(session, number=a.number, now=at("2026-10-09T08:55"), actor=SYSTEM).status == "checked_in"


def test_only_the_staff_serving_a_point_may_check_its_bookings_in(session, point):
    from tests.conftest import actor

    a = book(session)
    service.import_file(session, filename="p.csv", content="code,name,kind,address,lat,lon,town,hours,staff\nRG-1,容桂测试点,bank_branch,容桂大道1号,22.77,113.28,容桂,\"周一至周五 09:00-17:00\",2\n".encode(), actor="t_admin")
    rg = service.get_point(session, code="RG-1")
    # 伦教's point: the centre yes, 容桂's handler and a department's not.
    assert booking.serves(session, actor=actor(session, "t_operator"), point=point)
    assert not booking.serves(session, actor=actor(session, "t_ronggui"), point=point)
    assert not booking.serves(session, actor=actor(session, "t_sjj"), point=point)
    # 容桂's point: its town's and its communities' staff.
    assert booking.serves(session, actor=actor(session, "t_ronggui"), point=rg) and booking.serves(session, actor=actor(session, "t_gaoli"), point=rg)
    with pytest.raises(NotFound, match="不属于本单位服务的网点"):
        booking.check_in(session, number=a.number, now=at("2026-10-09T08:55"), actor=actor(session, "t_ronggui"))
    assert a.status == "booked"


def test_no_show_marking(session, point):
    early, late = book(session, start="2026-10-09T09:00"), book(session, start="2026-10-09T10:00", phone="13900139000")
    assert booking.mark_no_shows(session, now=at("2026-10-09T09:59")) == 0  # 09:30 end + 30 min not passed yet
    assert booking.mark_no_shows(session, now=at("2026-10-10T10:01")) >= 1
    assert early.status == "no_show" and late.status == "no_show"
    assert booking.mark_no_shows(session, now=at("2026-10-10T10:01")) == 0


def test_reminders_are_sent_once_the_day_before(session, point, monkeypatch):
    sent = []
    monkeypatch.setattr(booking.notify, "to_requester", lambda session, **kw: sent.append(kw), raising=False)
    earlier = NOW - timedelta(days=2)  # booked on Tuesday
    tomorrow, later = book(session, start="2026-10-09T09:00", now=earlier), book(session, start="2026-10-12T09:00", now=earlier)
    cancelled = book(session, start="2026-10-09T10:00", phone="13900139000", now=earlier)
    booking.cancel(session, number=cancelled.number, phone="13900139000", now=earlier)
    # Each booking was confirmed by SMS at once, with its number and day.
    assert [s["template_code"] for s in sent] == ["appointment_booked"] * 3
    assert sent[0]["context"]["number"] == tomorrow.number and sent[0]["context"]["time"] == "10月9日 09:00" and sent[0]["context"]["date"] == "2026年10月9日"
    sent.clear()
    assert booking.send_reminders(session, now=NOW) == 1
    assert booking.send_reminders(session, now=NOW + timedelta(hours=3)) == 0
    assert [s["context"]["number"] for s in sent] == [tomorrow.number]
    assert sent[0]["template_code"] == "appointment_reminder" and sent[0]["phone"] == "13800138000" and sent[0]["ticket_id"] is None
    booking.reschedule(session, number=later.number, phone=later.phone, slot_start=at("2026-10-13T11:00"), now=earlier)
    assert sent[-1]["template_code"] == "appointment_booked" and sent[-1]["context"]["time"] == "10月13日 11:00"  # the new time, texted
    assert booking.send_reminders(session, now=at("2026-10-12T09:00")) == 1  # a moved booking is reminded for its new day


def test_a_booking_confirmed_the_day_before_gets_no_reminder_on_top(session, point, monkeypatch):
    """Booked (or moved) at 15:00 for tomorrow: the 预约成功 SMS names the time; a 预约提醒 a minute later would repeat it."""
    sent = []
    monkeypatch.setattr(booking.notify, "to_requester", lambda session, **kw: sent.append(kw["template_code"]), raising=False)
    afternoon = at("2026-10-08T15:00")
    book(session, start="2026-10-09T09:00", now=afternoon)
    moved = book(session, start="2026-10-14T09:00", phone="13900139000", now=afternoon)
    booking.reschedule(session, number=moved.number, phone=moved.phone, slot_start=at("2026-10-09T10:00"), now=afternoon)
    assert sent == ["appointment_booked"] * 3
    assert booking.send_reminders(session, now=afternoon + timedelta(minutes=1)) == 0
    assert sent == ["appointment_booked"] * 3


def test_two_bookings_cannot_be_moved_onto_one_day(session, point):
    """改约 keeps the one-booking-a-day rule that booking has: else a phone could gather a day's places."""
    first, second = book(session, start="2026-10-09T09:00"), book(session, start="2026-10-12T09:00")
    with pytest.raises(Conflict, match=f"预约号 {first.number}") as refused:
        booking.reschedule(session, number=second.number, phone=second.phone, slot_start=at("2026-10-09T14:00"), now=NOW)
    assert refused.value.code == "already_booked"
    remaining = {s.start.strftime("%d %H:%M"): s.remaining for d in (9, 12) for s in booking.day_slots(session, point=point, day=date(2026, 10, d))}
    assert remaining["09 14:00"] == 2 and remaining["12 09:00"] == 1  # nothing taken, nothing released
    assert booking.reschedule(session, number=first.number, phone=first.phone, slot_start=at("2026-10-09T14:00"), now=NOW).slot_start == at("2026-10-09T14:00")  # its own day


def test_once_the_slot_has_begun_the_booking_can_no_longer_be_cancelled_or_moved(session, point):
    """Before the no-show job runs, a late 取消 would have turned a missed visit into 已取消 and freed a place already gone."""
    a = book(session, start="2026-10-09T09:00")
    assert booking.changeable(a, now=at("2026-10-09T08:59"))
    for moment in ("2026-10-09T09:00", "2026-10-09T09:20", "2026-10-09T09:45"):  # at the start, within, after the slot
        assert not booking.changeable(a, now=at(moment))
        with pytest.raises(Conflict, match="预约时段已开始或已过，无法取消或改约") as late:
            booking.cancel(session, number=a.number, phone=a.phone, now=at(moment))
        assert late.value.code == "slot_passed" and late.value.status_code == 409
        with pytest.raises(Conflict) as moved:
            booking.reschedule(session, number=a.number, phone=a.phone, slot_start=at("2026-10-09T14:00"), now=at(moment))
        assert moved.value.code == "slot_passed"
    assert a.status == "booked" and a.slot_start == at("2026-10-09T09:00")
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[0].remaining == 1  # the place is still taken
    assert booking.mark_no_shows(session, now=at("2026-10-09T10:01")) == 1 and a.status == "no_show"


def test_rescheduling_to_the_slot_already_held_is_refused(session, point):
    a = book(session, start="2026-10-09T09:00")
    with pytest.raises(Conflict, match="您当前预约的就是这个时段") as same:
        booking.reschedule(session, number=a.number, phone=a.phone, slot_start=datetime.fromisoformat("2026-10-09T01:00:00+00:00"), now=NOW)
    assert same.value.code == "same_slot"
    assert booking.day_slots(session, point=point, day=date(2026, 10, 9))[0].remaining == 1  # nothing taken twice or released


# --- concurrency through a real server ---------------------------------------------

@pytest.fixture
def served(tmp_path):
    """A real server over a database of its own holding point AP-1 (3 places a slot): the API's base URL."""
    url = create_fresh_database(tmp_path)
    server = None
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
            add_point(session, cap=3)
        db.dispose()
        server = Server(url, tmp_path, env={"BAISHITONG_FAKE_NOW": NOW.isoformat()}).start()
        yield f"{server.base}/api/v1"
    finally:
        if server is not None:
            server.stop()
        drop_fresh_database(url)


def at_once(attempt, arguments) -> None:
    """Runs attempt(argument) for each argument in its own thread, all released together."""
    barrier = threading.Barrier(len(arguments))

    def run(argument) -> None:
        barrier.wait()
        attempt(argument)

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)


def test_concurrent_bookings_never_overbook(served):
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            body = {"point": "AP-1", "slot_start": "2026-10-09T09:00:00+08:00", "name": f"并发{i}", "phone": f"1380000{i:04d}"}
            response = client.post(f"{served}/appointments", json=body)
            with lock:
                statuses.append(response.status_code)
            if response.status_code == 409:
                assert response.json()["error"]["code"] == "slot_full"

    at_once(attempt, range(20))
    assert sorted(statuses) == [201] * 3 + [409] * 17
    slots = httpx.get(f"{served}/points/AP-1/slots", params={"date": "2026-10-09"}).json()
    assert slots[0] == {"start": "2026-10-09T09:00:00+08:00", "end": "2026-10-09T09:30:00+08:00", "capacity": 3, "remaining": 0}


def test_one_phone_booking_several_times_of_one_day_at_once_gets_one(served):
    """The one-booking-a-day rule holds when the requests arrive together (a double-tapped button, two tabs)."""
    times = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(hhmm: str) -> None:
        with httpx.Client(timeout=60) as client:
            body = {"point": "AP-1", "slot_start": f"2026-10-09T{hhmm}:00+08:00", "name": "陈先生", "phone": "13800009999"}
            response = client.post(f"{served}/appointments", json=body)
            with lock:
                answers.append((response.status_code, response.json().get("error", {}).get("code", "")))

    at_once(attempt, times)
    assert sorted(answers) == [(201, "")] + [(409, "already_booked")] * (len(times) - 1)
