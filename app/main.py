"""The application factory."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.types import Scope

from app.api import docs
from app.api.deps import API_PREFIX
from app.api.edge import Edge
from app.api.health import router as health_router
from app.api.imports import upload_body_limit
from app.api.problems import install_error_handlers
from app.api.router import API_ROUTERS, mount
from app.api.workspace_archive import restore_body_limit
from app.config import Settings, get_settings
from app.db import migrations
from app.db.engine import create_engine, create_sessions
from app.dispatcher import Dispatcher
from app.import_runner import ImportRunner
from app.observability.install import install_metrics
from app.observability.metrics import mark_worker_dead
from app.observability.request_id import REQUEST_ID_HEADER
from app.openapi import install_openapi, operation_id
from app.services.event_feed import EventFeed

# Each tag's description; generated clients and /docs group operations by tag.
TAGS = [
    {"name": "auth", "description": "Register, sign in (OAuth2 password form), refresh, sign out."},
    {"name": "users", "description": "The caller's own account: profile and password."},
    {"name": "api-tokens", "description": "Personal API tokens for scripts and integrations."},
    {
        "name": "workspaces",
        "description": "Workspaces the caller belongs to; a workspace has one owner.",
    },
    {"name": "members", "description": "Who belongs to a workspace, with which role and rate."},
    {
        "name": "invitations",
        "description": "How people join a workspace: an admin invites an email, its holder "
        "accepts or declines.",
    },
    {"name": "clients", "description": "The clients projects are done for."},
    {"name": "projects", "description": "Projects, public or private, with a rate and estimate."},
    {
        "name": "project-members",
        "description": "Who belongs to a project: access to a private one, and a rate on it.",
    },
    {"name": "tasks", "description": "Tasks within projects, open or done."},
    {"name": "tags", "description": "Labels for time entries."},
    {
        "name": "time-entries",
        "description": "Tracked time: list, sync, create, change, delete, in bulk, and export.",
    },
    {"name": "timer", "description": "The running entry: start, stop, and read it."},
    {
        "name": "approvals",
        "description": "Periods of time submitted by their person, approved or rejected by an "
        "admin or the owner, withdrawn or reopened; submitted and approved time is closed.",
    },
    {"name": "reports", "description": "Tracked time totalled by project, person, day and more."},
    {"name": "imports", "description": "Uploads of other trackers' exports, and their results."},
    {"name": "events", "description": "Every change in a workspace: who made it, how, and what."},
    {
        "name": "webhooks",
        "description": "Events pushed to other systems, signed as Standard Webhooks, and "
        "their deliveries.",
    },
    {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
]
# Paths carry their full prefix, so clients call the host they were given.
SERVERS = [{"url": "/", "description": "The host serving this document."}]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.migrate_on_start:
        await migrations.upgrade(settings.database_url)
    engine = create_engine(settings)
    app.state.engine = engine
    app.state.sessions = create_sessions(engine, pgbouncer=settings.db_pgbouncer)
    dispatcher = None
    if settings.webhook_dispatcher:
        dispatcher = Dispatcher(app.state.sessions, settings)
        dispatcher.start()
    import_runner = None
    if settings.import_runner:
        import_runner = app.state.import_runner = ImportRunner(app.state.sessions, settings)
        import_runner.start()
    try:
        yield
    finally:
        await app.state.event_feed.close()
        if import_runner is not None:
            await import_runner.stop()
        if dispatcher is not None:
            await dispatcher.stop()
        await engine.dispose()
        mark_worker_dead()


def request_body_limit(scope: Scope) -> int:
    """Bytes a request's body may hold: the settings of the app serving it decide."""
    settings: Settings = scope["app"].state.settings
    method, path = scope["method"], scope["path"]
    upload = upload_body_limit(method, path, settings) or restore_body_limit(method, path, settings)
    return settings.request_max_bytes if upload is None else upload


def install_edge(app: FastAPI, settings: Settings) -> None:
    """The one middleware every request passes. Added last, so that it wraps every other."""
    app.add_middleware(
        Edge,
        body_limit=request_body_limit,
        private_prefixes=(f"{API_PREFIX}/auth/", f"{API_PREFIX}/shared-reports/"),
        docs_paths=frozenset({"/docs", "/docs/oauth2-redirect", docs.REDOC_URL}),
        metrics=install_metrics(app, settings),
        access_log=settings.access_log,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPIOffline(
        title="Timesheet",
        version="0.1.0",
        description="Team time tracking: clients, projects, tasks, tags and time entries.",
        lifespan=lifespan,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        static_url=docs.STATIC_URL,
        favicon_url=docs.FAVICON_URL,
        # Served by `app.api.docs`, with no request to another host.
        redoc_url=None,
        # No badge from the online validator: the page asks nothing of another host.
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )
    app.state.settings = settings
    app.state.event_feed = EventFeed(settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Retry-After", REQUEST_ID_HEADER],
        )
    install_error_handlers(app)
    mount(app, (health_router, docs.router, *API_ROUTERS))
    install_openapi(app, SERVERS)
    install_edge(app, settings)
    return app


# Requests leave almost no cyclic garbage behind, yet at Python's default threshold a
# collection ran every few requests; a tenth of a served request's time went to them.
COLLECTION_THRESHOLD = 10_000


def create_served_app() -> FastAPI:
    """The app `timesheet serve` runs in each worker process. The modules, models, routes and
    schemas built so far live as long as the process: frozen, the collector stops walking them
    on every full collection."""
    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    return app
