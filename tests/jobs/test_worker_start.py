"""The worker started while the database restarts (or is not up yet, the machine booting): it waits for it and starts,
instead of exiting and leaving `run`'s web without a worker, so no message or deadline check ran until a restart."""

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from baishitong import cli
from baishitong.config import get_settings
from baishitong.jobs import periodic, queue
from baishitong.jobs import service as jobs

DOWN = OperationalError("SELECT", {}, Exception("connection failed: the database system is starting up"))


@pytest.fixture
def started(monkeypatch, database_url):
    """The worker command with its queue consumer replaced: records whether it got as far as running it."""
    ran: list[str] = []

    class Consumer:
        def run(self):
            ran.append("consumer")

    class Messages:
        def start(self):
            ran.append("messages")

        def stop(self, graceful):
            ran.append("messages stopped")

    monkeypatch.setattr(queue, "MainConsumer", lambda *_args, **_kwargs: Consumer())
    monkeypatch.setattr(queue.get_huey(queue.NOTIFY), "create_consumer", lambda **_kwargs: Messages())
    monkeypatch.setattr(cli, "CATCH_UP_WAITS", (0, 0, 0))
    monkeypatch.setattr(periodic, "run_periodic", lambda _db: ran.append("periodic"))
    monkeypatch.setenv("BAISHITONG_DATABASE_URL", database_url)  # the command sets it: restored after the test
    yield ran
    get_settings.cache_clear()


def test_a_worker_started_while_the_database_restarts_waits_for_it_then_catches_up_and_runs(started, monkeypatch, database_url):
    tries = []

    def relay(_db):
        tries.append(1)
        if len(tries) < 3:
            raise DOWN

    monkeypatch.setattr(jobs, "relay", relay)
    result = CliRunner().invoke(cli.main, ["worker", "--db", database_url])
    assert result.exit_code == 0, result.output
    assert "数据库暂时无法访问" in result.output and len(tries) == 3
    assert started == ["periodic", "messages", "consumer", "messages stopped"]


def test_a_database_that_never_comes_back_still_stops_the_worker_with_the_chinese_error(started, monkeypatch, database_url):
    def relay(_db):
        raise DOWN

    monkeypatch.setattr(jobs, "relay", relay)
    result = CliRunner().invoke(cli.main, ["worker", "--db", database_url])
    assert result.exit_code != 0 and "无法访问数据库" in result.output
    assert started == []
