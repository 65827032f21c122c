"""Job handlers by name. A handler takes (session, **payload) and must be idempotent.

A handler that waits on the outside world (a gateway) is registered `outside_transaction`: it takes
(db, **payload) and opens its own short transactions, so no database lock is held while it waits. One that
sends messages is registered on the notification queue (`queue=NOTIFY`), whose worker threads are its own.
"""

from collections.abc import Callable

from sqlalchemy.orm import Session

Handler = Callable[..., None]
_HANDLERS: dict[str, Handler] = {}
_OUTSIDE_TRANSACTION: set[str] = set()
_QUEUES: dict[str, str] = {}
# The queues (huey's names for them, kept apart in the same SQLite file or Redis database).
MAIN, NOTIFY = "baishitong", "baishitong-notify"


def job(name: str, *, outside_transaction: bool = False, queue: str = MAIN) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        _QUEUES[name] = queue
        if outside_transaction:
            _OUTSIDE_TRANSACTION.add(name)
        return handler

    return register


def handler_for(name: str) -> Handler:
    load_all()
    return _HANDLERS[name]


def load_all() -> None:
    """Imports every domain's tasks module so their @job handlers are registered."""
    import importlib

    for module in ("baishitong.sla.tasks", "baishitong.notify.tasks", "baishitong.routing.tasks", "baishitong.knowledge.tasks", "baishitong.analytics.tasks", "baishitong.enterprise.tasks"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def runs_outside_transaction(name: str) -> bool:
    handler_for(name)
    return name in _OUTSIDE_TRANSACTION


def queue_of(name: str) -> str:
    """The queue a job runs on; one no longer registered (left by an older version) goes to the main one, to fail there."""
    load_all()
    return _QUEUES.get(name, MAIN)


def run_handler(session: Session, name: str, payload: dict) -> None:
    handler_for(name)(session, **payload)
