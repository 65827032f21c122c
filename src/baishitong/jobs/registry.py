"""Job handlers by name. A handler takes (session, **payload) and must be idempotent."""

from collections.abc import Callable

from sqlalchemy.orm import Session

Handler = Callable[..., None]
_HANDLERS: dict[str, Handler] = {}


def job(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[name] = handler
        return handler

    return register


def handler_for(name: str) -> Handler:
    load_all()
    return _HANDLERS[name]


def load_all() -> None:
    """Imports every domain's tasks module so their @job handlers are registered."""
    import importlib

    for module in ("baishitong.sla.tasks", "baishitong.notify.tasks", "baishitong.routing.tasks", "baishitong.knowledge.tasks", "baishitong.points.tasks", "baishitong.analytics.tasks", "baishitong.enterprise.tasks"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def run_handler(session: Session, name: str, payload: dict) -> None:
    handler_for(name)(session, **payload)
