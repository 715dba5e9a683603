import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, AfterValidator, Field, StringConstraints

from app.enums import ProjectVisibility
from app.schemas.common import (
    ArchivableUpdate,
    EstimateSeconds,
    HourlyRateCents,
    Name,
    RatesHidden,
    Schema,
)

Color = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"),
    AfterValidator(str.lower),
    Field(description="`#RRGGBB`.", examples=["#0b7285"]),
]


class ProjectCreate(Schema):
    client_id: uuid.UUID | None = None
    name: Name
    color: Color = "#0b7285"
    is_billable: bool = True
    hourly_rate_cents: HourlyRateCents | None = None
    visibility: ProjectVisibility = ProjectVisibility.PUBLIC
    estimate_seconds: EstimateSeconds | None = None


class ProjectUpdate(ArchivableUpdate):
    client_id: uuid.UUID | MISSING | None = MISSING
    name: Name | MISSING = MISSING
    color: Color | MISSING = MISSING
    is_billable: bool | MISSING = MISSING
    hourly_rate_cents: HourlyRateCents | MISSING | None = MISSING
    visibility: ProjectVisibility | MISSING = MISSING
    estimate_seconds: EstimateSeconds | MISSING | None = MISSING


class ProjectRead(RatesHidden):
    id: uuid.UUID
    workspace_id: uuid.UUID
    client_id: uuid.UUID | None
    name: str
    color: str
    is_billable: bool
    hourly_rate_cents: int | None = Field(
        description="Null where the caller may not see rates, or when the project has none."
    )
    visibility: ProjectVisibility
    estimate_seconds: int | None
    archived_at: datetime | None
    created_by_user_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
