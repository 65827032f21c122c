"""A request's response leaves only once its transaction has committed (FastAPI would send it first)."""

import asyncio

import pytest

from baishitong.deps import ResponseAfterCommit


def test_response_of_a_request_with_a_session_is_sent_after_its_commit():
    events: list[str] = []

    async def endpoint(scope, receive, send):
        scope.setdefault("state", {})["holds_response"] = True
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        events.append("committed")

    async def client(message):
        events.append(message["type"])

    asyncio.run(ResponseAfterCommit(endpoint)({"type": "http"}, None, client))
    assert events == ["committed", "http.response.start", "http.response.body"]


def test_a_failed_commit_sends_nothing_of_the_success_response():
    sent: list[dict] = []

    async def endpoint(scope, receive, send):
        scope.setdefault("state", {})["holds_response"] = True
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        raise RuntimeError("commit failed")

    async def client(message):
        sent.append(message)

    with pytest.raises(RuntimeError):
        asyncio.run(ResponseAfterCommit(endpoint)({"type": "http"}, None, client))
    assert sent == []


def test_a_request_without_a_session_streams_straight_through():
    events: list[str] = []

    async def endpoint(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        events.append("between")
        await send({"type": "http.response.body", "body": b"x"})

    async def client(message):
        events.append(message["type"])

    asyncio.run(ResponseAfterCommit(endpoint)({"type": "http"}, None, client))
    assert events == ["http.response.start", "between", "http.response.body"]
