"""API shapes for service points and appointments."""

from datetime import datetime

from fastapi import UploadFile
from pydantic import BaseModel, Field

from baishitong.bounds import Moment

PHONE = r"^[0-9+\- ]{7,20}$"


class PointOut(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str
    host: str | None
    address: str
    lat: float
    lon: float
    town_code: str | None
    community_code: str | None
    hours: str
    phone: str | None
    staff: int
    services: dict[str, list[str]]
    bookable: bool


class NearestOut(PointOut):
    distance_m: float
    open_now: bool


class PointDetailOut(PointOut):
    open_now: bool
    tickets: int


class PointImportIn(BaseModel):
    file: UploadFile = Field(description="CSV 或 XLSX：code,name,kind,address,lat,lon[,town,hours,phone,services…]")


class PointImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class SlotOut(BaseModel):
    start: str  # ISO 8601 with +08:00
    end: str
    capacity: int
    remaining: int


class AppointmentIn(BaseModel):
    point: str = Field(min_length=1, max_length=32)
    item: str | None = Field(default=None, max_length=32)
    slot_start: Moment
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=PHONE)


class PhoneIn(BaseModel):
    phone: str = Field(pattern=PHONE)


class RescheduleIn(PhoneIn):
    slot_start: Moment


class AppointmentOut(BaseModel):
    number: str
    point: str
    point_name: str
    address: str
    item: str | None
    slot_start: str
    slot_end: str
    name: str
    phone: str
    status: str
    status_label: str
    changeable: bool = Field(description="现在能否取消或改约：已预约且预约时段尚未开始；为 false 时取消、改约会得到 409（slot_passed 或 appointment_not_active）")
    created_at: datetime
    checked_in_at: datetime | None
