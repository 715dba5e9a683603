"""Every versioned router, mounted under /api/v1 by the app factory."""

from fastapi import APIRouter

from app.api import (
    clients,
    project_members,
    projects,
    tags,
    tasks,
)

api_router = APIRouter()
api_router.include_router(tags.router)
api_router.include_router(clients.router)
api_router.include_router(projects.router)
api_router.include_router(project_members.router)
api_router.include_router(tasks.router)
