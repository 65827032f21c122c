"""Imports every ORM module so that Base.metadata is complete (Alembic, tests)."""

from baishitong.audit import models as audit_models  # noqa: F401
from baishitong.db import Base
from baishitong.org import models as org_models  # noqa: F401
from baishitong.tickets import models as tickets_models  # noqa: F401

metadata = Base.metadata
