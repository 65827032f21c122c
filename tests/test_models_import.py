"""A process imports only the code it runs: the worker imports no web or assistant code, yet writes orders whose
foreign keys point into those domains. Its first flush failed (tickets.assistant_session_id had no table to point
to) while the web, which imports everything, worked, so `baishitong worker` died at its catch-up."""

import subprocess
import sys

WORKER_PROCESS = """
import sys
from sqlalchemy.exc import NoReferencedTableError
from baishitong.db import Base, Database
from baishitong.jobs import periodic, service  # what `baishitong worker` imports before it opens the database
Database("sqlite://")
try:
    Base.metadata.sorted_tables  # resolves every foreign key's target, as a flush does
except NoReferencedTableError as exc:
    sys.exit(str(exc))
"""


def test_a_process_that_opens_the_database_knows_every_table_its_rows_point_to():
    done = subprocess.run([sys.executable, "-c", WORKER_PROCESS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr or done.stdout
