import asyncio

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.api.deps import api_router
from app.api.problems import responses
from app.db.engine import READ_ONLY
from app.errors import Unavailable
from app.schemas.common import examples

router = api_router(tags=["health"])

READINESS_TIMEOUT_SECONDS = 3.0


class HealthStatus(BaseModel):
    """The answer of a probe that passed."""

    model_config = examples({"status": "ok"})

    status: str = Field(description="Always `ok`.")


@router.get(
    "/livez",
    summary="The process is up",
    description="Answers 200 while the process runs; it checks nothing else.",
)
async def livez() -> HealthStatus:
    return HealthStatus(status="ok")


@router.get(
    "/readyz",
    summary="The database answers",
    description="200 when the database answers within a few seconds, 503 otherwise: take the "
    "process out of the load balancer until it answers again.",
    responses=responses(503),
)
async def readyz(request: Request) -> HealthStatus:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with request.app.state.engine.connect() as connection:
                await connection.execution_options(**{READ_ONLY: True})
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable("The database cannot be reached.") from exc
    return HealthStatus(status="ok")
