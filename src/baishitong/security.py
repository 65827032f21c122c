"""Passwords, bearer tokens and masking of personal data."""

import functools
import hashlib
import hmac
import os
import re
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Each hash takes 19 MiB: thirty operators logging in at 9:00 would need 570 MiB at once. Hashing is
# CPU-bound, so more hashes at a time than cores only adds memory, not speed.
_hashing = threading.BoundedSemaphore(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
API_TOKEN_PREFIX = "bst_"


def hash_password(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _hashing:
            return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_for_unknown_user(password: str) -> None:
    """Spends what checking a real account's password costs, so that a wrong name is not told apart from a
    wrong password by the time the answer takes (35 ms of argon2 against under 1 ms)."""
    verify_password(_unknown_user_hash(), password)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="baishitong.access")


def issue_access_token(secret: str, *, user_id: int, generation: int) -> str:
    return _serializer(secret).dumps({"uid": user_id, "gen": generation})


def read_access_token(secret: str, token: str, *, max_age_seconds: int) -> dict | None:
    try:
        return _serializer(secret).loads(token, max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None


def keyed_tag(secret_key: str, value: str) -> str:
    """A short keyed hash (16 hex): the same value always gives the same tag, comparable in a trail or a cookie,
    but neither readable nor guessable from it without the secret key."""
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def new_api_token() -> tuple[str, str]:
    """Returns (token shown once, hash stored)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if "*" in phone:
        # Already masked (a cancelled subscription keeps only 138****5678): masking again would leave ****.
        return phone
    digits = re.sub(r"\D", "", phone)
    # At least four digits hidden: 138****5678 for a mobile (or a landline with its area code), ****3333 for a
    # bare 8-digit landline, whose first three and last four would leave one digit hidden.
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 8:
        return "****" + digits[-4:]
    return "****"


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return id_number
    if len(id_number) >= 10:
        return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
    return "*" * len(id_number)


# An 18-character ID number, or a mainland mobile number however it is spaced (138 1234 5678, 138-1234-5678)
# and with or without the country code (+8613812345678, as phones and SMS gateways write it).
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)")


def mask_numbers_in_text(text: str | None) -> str | None:
    """Free text masked like the requester fields: callers often say their phone or ID number in the
    message itself, and the message is read by every unit the order passes through."""
    if not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()) or "", text)
    return _MOBILE_IN_TEXT.sub(lambda m: (m.group(1) or "") + (mask_phone(m.group(2)) or ""), text)


def mask_typed_username(name: str) -> str:
    """A sign-in name that is no account's, masked like a number: people often type their mobile (or ID
    number) where the username goes, and the audit trail keeps what failed to sign in."""
    compact = re.sub(r"[\s()+-]", "", name)
    if re.fullmatch(r"[0-9]{7,}", compact):
        return mask_phone(compact) or ""
    if re.fullmatch(r"[0-9]{17}[0-9Xx]", compact):
        return mask_id_number(compact) or ""
    return mask_numbers_in_text(name) or ""


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1) if not name.endswith(("先生", "女士")) else name
