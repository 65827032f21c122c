"""The app builds its search indexes and loads the router in the background when it starts."""

import logging

from baishitong.app import warm_up
from baishitong.db import Database
from baishitong.knowledge import service as knowledge


def test_warm_up_builds_the_indexes_the_first_searches_need(database):
    knowledge._cache.clear()
    warm_up(database)
    scopes = {scope for (_, scope) in knowledge._cache}
    assert {"combined", "articles:public"} <= scopes


def test_a_failed_warm_up_is_logged_not_raised(tmp_path, caplog):
    broken = Database(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    with caplog.at_level(logging.ERROR, logger="baishitong.app"):
        warm_up(broken)
    assert "warm-up failed" in caplog.text

