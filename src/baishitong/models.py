"""Imports every ORM module so that Base.metadata is complete (Alembic, tests)."""

import importlib

from baishitong.db import Base

DOMAIN_MODELS = (
    "audit",
    "org",
    "tickets",
    "jobs",
    "sla",
    "notify",
    "routing",
    "knowledge",
    "assistant",
    "points",
    "analytics",
    "phrases",
    "enterprise",
    "attachments",
    "web",
)

for _domain in DOMAIN_MODELS:
    try:
        importlib.import_module(f"baishitong.{_domain}.models")
    except ModuleNotFoundError as exc:
        if exc.name != f"baishitong.{_domain}.models":
            raise

metadata = Base.metadata
