"""Every domain's API router and the pages, mounted in one place."""

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    from baishitong.org.api import router as org_router
    from baishitong.tickets.api import router as tickets_router

    app.include_router(org_router)
    app.include_router(tickets_router)
