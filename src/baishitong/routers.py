"""Every domain's API router and the pages, mounted in one place."""

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    from baishitong.analytics.api import router as analytics_router
    from baishitong.attachments.api import router as attachments_router
    from baishitong.assistant.api import router as assistant_router
    from baishitong.enterprise.api import router as enterprise_router
    from baishitong.knowledge.api import router as knowledge_router
    from baishitong.notify.api import router as notify_router
    from baishitong.open311 import api as open311_api
    from baishitong.open311.api import discovery_router as open311_discovery_router
    from baishitong.open311.api import router as open311_router
    from baishitong.org.api import router as org_router
    from baishitong.phrases.api import router as phrases_router
    from baishitong.points.api import router as points_router
    from baishitong.routing.api import router as routing_router
    from baishitong.sla.api import router as sla_router
    from baishitong.tickets.api import router as tickets_router

    for router in (org_router, tickets_router, attachments_router, sla_router, notify_router, analytics_router, knowledge_router, assistant_router, points_router, enterprise_router, routing_router, phrases_router, open311_router, open311_discovery_router):
        app.include_router(router)
    # Open311's routes raise their spec-format errors, so the request's transaction rolls back (open311.api.Open311Error).
    app.add_exception_handler(open311_api.Open311Error, open311_api.raised)

    from baishitong.web.setup import install_web

    install_web(app)
