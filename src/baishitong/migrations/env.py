from alembic import context
from sqlalchemy import text

from baishitong.db import make_engine
from baishitong.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    is_pg = connection.dialect.name == "postgresql"
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=not is_pg, compare_type=True)
    with context.begin_transaction():
        if is_pg:
            # Two servers starting at once must not migrate concurrently.
            connection.execute(text("SELECT pg_advisory_xact_lock(7300012346)"))
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        context.run_migrations()


run_migrations_online()
