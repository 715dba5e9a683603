"""Every versioned router, mounted under /api/v1 by the app factory."""

from fastapi import APIRouter

from app.api import (
    api_tokens,
    auth,
    clients,
    events,
    exports,
    imports,
    invitations,
    members,
    project_members,
    projects,
    reports,
    tags,
    tasks,
    time_entries,
    timer,
    users,
    webhooks,
    workspaces,
)

api_router = APIRouter()
# Routers are tried in this order, route by route: the busiest come first, so that tracking
# requests do not pay for matching every other path of the API.
api_router.include_router(exports.router)
api_router.include_router(time_entries.router)
api_router.include_router(timer.router)
api_router.include_router(timer.me_router)
api_router.include_router(reports.router)
api_router.include_router(imports.router)
api_router.include_router(projects.router)
api_router.include_router(tasks.router)
api_router.include_router(tags.router)
api_router.include_router(clients.router)
api_router.include_router(workspaces.router)
api_router.include_router(workspaces.workspace_router)
api_router.include_router(members.router)
api_router.include_router(invitations.router)
api_router.include_router(invitations.me_router)
api_router.include_router(project_members.router)
api_router.include_router(events.router)
api_router.include_router(webhooks.router)
api_router.include_router(users.router)
api_router.include_router(api_tokens.router)
api_router.include_router(auth.router)
