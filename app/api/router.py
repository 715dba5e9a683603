"""Every versioned router, mounted under /api/v1 by the app factory."""

from fastapi import APIRouter

from app.api import tags

api_router = APIRouter()
api_router.include_router(tags.router)
