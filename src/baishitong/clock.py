"""The platform's notion of now.

In demo mode BAISHITONG_FAKE_NOW (ISO 8601) freezes it, so tests can move time
forward across worker restarts without touching the machine clock.
"""

import os
from datetime import datetime, timezone


def now() -> datetime:
    fake = os.environ.get("BAISHITONG_FAKE_NOW")
    if fake:
        value = datetime.fromisoformat(fake)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
