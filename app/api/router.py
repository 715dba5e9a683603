"""Every versioned router, and how the app factory mounts them."""

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from app.api import (
    api_tokens,
    approvals,
    auth,
    clients,
    events,
    exports,
    imports,
    invitations,
    members,
    project_members,
    projects,
    report_documents,
    report_shares,
    reports,
    tags,
    tasks,
    time_entries,
    timer,
    users,
    webhooks,
    workspace_archive,
    workspaces,
)

# Every versioned router; their prefixes carry `/api/v1`. `mount` adds their routes to the
# app's own list, so a request is matched once, against one flat list: an included router
# would match it again inside. Routes are tried in this order: the busiest come first, so
# that tracking requests do not pay for matching every other path of the API.
API_ROUTERS = (
    exports.router,
    time_entries.router,
    timer.router,
    timer.me_router,
    reports.router,
    report_shares.router,
    report_documents.router,
    report_shares.public_router,
    imports.router,
    projects.router,
    tasks.router,
    tags.router,
    clients.router,
    workspace_archive.restore_router,
    workspace_archive.export_router,
    workspaces.router,
    workspaces.workspace_router,
    members.router,
    invitations.router,
    invitations.me_router,
    project_members.router,
    approvals.router,
    events.router,
    events.stream_router,
    webhooks.router,
    users.router,
    api_tokens.router,
    auth.router,
)


def mount(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Add each router's routes to the app itself. A router's routes already carry its
    prefix, dependencies, tags and responses."""
    for router in routers:
        app.router.routes.extend(router.routes)
