"""Fixtures the page tests share."""

import pytest

from baishitong.knowledge import service as kb
from baishitong.points import service as points


@pytest.fixture
def demo(session):
    """The demo knowledge base, service items and service points."""
    kb.load_demo(session)
    points.load_demo(session)
    session.commit()
