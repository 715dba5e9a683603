"""Every versioned router, mounted under /api/v1 by the app factory."""

from fastapi import APIRouter

api_router = APIRouter()
