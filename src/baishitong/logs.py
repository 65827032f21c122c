"""Log records never carry a citizen's mobile or ID number, nor a key or link that works for whoever reads it.

Numbers reach logs in ways no one writes on purpose: the access log prints each request line with its query
string (`GET /api/v1/track?number=…&phone=…`, the phone system's `/staff/console?phone=`), and an exception's text
or traceback repeats the input that caused it. So do secrets carried in addresses: Open311's `?api_key=` (the
spec allows it in the query string), the link of a policy alert SMS, a reply file's 30-minute link. A log goes
to files, terminals and log collectors, where no one needs them, so every record is masked when it is made,
before any handler (uvicorn's, a collector's, a test's) sees it.
"""

import logging
import re

from baishitong.security import API_TOKEN_PREFIX, mask_numbers_in_text

_SECRET_IN_URL = re.compile(r"([?&]api_key=|/enterprise/alerts/|/track/files/)[^&\s\"'#?/]+", re.IGNORECASE)
_API_TOKEN = re.compile(rf"(?<![A-Za-z0-9]){API_TOKEN_PREFIX}[A-Za-z0-9_-]{{8,}}")


def mask_secrets_in_text(text: str | None) -> str | None:
    """A text masked as log records are: phone and ID numbers, and keys and links that work for whoever reads
    them. Also for what is stored to be read later by others: a failed job's or message's error."""
    if not text:
        return text
    text = mask_numbers_in_text(text) or text
    return _API_TOKEN.sub(API_TOKEN_PREFIX + "******", _SECRET_IN_URL.sub(r"\1******", text))


def _masked(value):
    """A string masked; any other argument as it was unless its text holds something to mask (then the masked text)."""
    if value is None or isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    masked = mask_secrets_in_text(text)
    return value if masked == text else masked


def mask_personal_data() -> None:
    """Masks every log record of this process from now on (idempotent: the app and the worker both call it).

    The arguments are masked one by one rather than merged into the message, since uvicorn's access
    formatter reads the request line's parts from them; a traceback is rendered and masked at once, and the
    exception object itself dropped, so no handler renders the unmasked one."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_personal_data", False):
        return

    def masking_factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        if record.exc_info:
            record.exc_text = mask_secrets_in_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask_secrets_in_text(record.stack_info)
        return record

    masking_factory.masks_personal_data = True
    logging.setLogRecordFactory(masking_factory)
