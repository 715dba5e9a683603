"""The application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app.api.deps import API_PREFIX
from app.api.health import router as health_router
from app.api.problems import install_error_handlers
from app.api.router import api_router
from app.config import Settings, get_settings
from app.db import migrations
from app.db.engine import create_engine, create_sessions
from app.openapi import install_openapi, operation_id


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.migrate_on_start:
        await migrations.upgrade(settings.database_url)
    engine = create_engine(settings)
    app.state.engine = engine
    app.state.sessions = create_sessions(engine, pgbouncer=settings.db_pgbouncer)
    try:
        yield
    finally:
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="Timesheet",
        version="0.1.0",
        description="Team time tracking: clients, projects, tasks, tags and time entries.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        static_url="/static/docs",
        favicon_url="/static/docs/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings = settings
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Retry-After"],
        )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router, prefix=API_PREFIX)
    install_openapi(app)
    return app
