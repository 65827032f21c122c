"""Open311 GeoReport v2 payloads, field names as the spec spells them."""

from pydantic import BaseModel, ConfigDict, Field


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool = True
    code: str
    datatype: str
    required: bool
    datatype_description: str | None = None
    order: int
    description: str
    values: list[AttributeValue] = Field(default_factory=list)


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str = "realtime"
    keywords: str
    group: str


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class RequestIn(BaseModel):
    """A POST requests body after form or JSON decoding; unknown spec fields (device_id, account_id…) are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: str | None = None
    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None
    attribute: dict[str, str] = Field(default_factory=dict)


class RequestCreated(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None = None


class RequestOut(BaseModel):
    """A service request as the public sees it: status and place, never the requester."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None = None
    agency_responsible: str | None
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None
    long: float | None
    media_url: str | None = None


class DiscoveryEndpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[DiscoveryEndpoint]


class RequestTokenOut(BaseModel):
    """GET Service Request ID from a token: the request created with the client's token (its Idempotency-Key)."""

    service_request_id: str
    token: str


class ErrorItem(BaseModel):
    """One entry of the spec's error list; the HTTP status is 400, 403, 404 (409 and 429 for a reused Idempotency-Key
    or too many requests)."""

    code: int
    description: str
