import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, AfterValidator, Field, StringConstraints

from app.enums import ProjectVisibility
from app.schemas.common import (
    ArchivableUpdate,
    BudgetCents,
    EstimateSeconds,
    HourlyRateCents,
    Name,
    RatesHidden,
    Schema,
    examples,
)

Color = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"),
    AfterValidator(str.lower),
    Field(description="`#RRGGBB`.", examples=["#0b7285"]),
]


class ProjectCreate(Schema):
    """A new project."""

    model_config = examples(
        {
            "client_id": "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
            "name": "Website relaunch",
            "color": "#0b7285",
            "is_billable": True,
            "hourly_rate_cents": 9500,
            "visibility": "public",
            "estimate_seconds": 360000,
            "budget_cents": 3000000,
        }
    )

    client_id: uuid.UUID | None = Field(default=None, description="The client; null: none.")
    name: Name = Field(description="The project's name, unique among the workspace's live ones.")
    color: Color = "#0b7285"
    is_billable: bool = Field(default=True, description="Whether its entries bill by default.")
    hourly_rate_cents: HourlyRateCents | None = Field(
        default=None,
        description="Cents per hour, unless a member has a rate on the project; "
        "null: each one's usual rate.",
    )
    visibility: ProjectVisibility = Field(
        default=ProjectVisibility.PUBLIC,
        description="`public`: every member sees it; `private`: only admins and its members.",
    )
    estimate_seconds: EstimateSeconds | None = Field(
        default=None, description="How long the project should take; null: no estimate."
    )
    budget_cents: BudgetCents | None = Field(
        default=None,
        description="What its billable time may cost, in the workspace's currency; null: none.",
    )


class ProjectUpdate(ArchivableUpdate):
    """Changes to a project; absent fields stay as they are, null clears."""

    model_config = examples({"hourly_rate_cents": 11000, "visibility": "private"})

    client_id: uuid.UUID | MISSING | None = Field(MISSING, description="The client; null: none.")
    name: Name | MISSING = Field(MISSING, description="The project's new name.")
    color: Color | MISSING = MISSING
    is_billable: bool | MISSING = Field(
        MISSING, description="Whether new entries bill by default; entries keep theirs."
    )
    hourly_rate_cents: HourlyRateCents | MISSING | None = Field(
        MISSING,
        description="Cents per hour, unless a member has a rate on the project; "
        "null: each one's usual rate.",
    )
    visibility: ProjectVisibility | MISSING = Field(MISSING, description="`public` or `private`.")
    estimate_seconds: EstimateSeconds | MISSING | None = Field(
        MISSING, description="How long the project should take; null removes the estimate."
    )
    budget_cents: BudgetCents | MISSING | None = Field(
        MISSING, description="What its billable time may cost; null removes the budget."
    )


class ProjectRead(RatesHidden):
    """A project of the workspace."""

    model_config = examples(
        {
            "id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "client_id": "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
            "name": "Website relaunch",
            "color": "#0b7285",
            "is_billable": True,
            "hourly_rate_cents": None,
            "visibility": "public",
            "estimate_seconds": 360000,
            "budget_cents": 3000000,
            "tracked_seconds": 288000,
            "progress": 0.8,
            "spent_cents": 2400000,
            "archived_at": None,
            "created_by_user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "version": 3,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-03T16:20:00Z",
            "deleted_at": None,
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    client_id: uuid.UUID | None = Field(description="The client; null: none.")
    name: str = Field(description="The project's name.")
    color: str = Field(description="`#rrggbb`.")
    is_billable: bool = Field(description="Whether its entries bill by default.")
    hourly_rate_cents: int | None = Field(
        description="Null where the caller may not see rates, or when the project has none."
    )
    visibility: ProjectVisibility = Field(
        description="`public`: every member sees it; `private`: only admins and its members."
    )
    estimate_seconds: int | None = Field(description="How long it should take; null: no estimate.")
    budget_cents: int | None = Field(
        description="What its billable time may cost; null: none, or where the caller may "
        "not see rates."
    )
    tracked_seconds: int = Field(description="The time of its finished entries, everyone's.")
    progress: float | None = Field(
        description="`tracked_seconds` over `estimate_seconds` (1.0 is the estimate, more is "
        "over it); null without an estimate."
    )
    spent_cents: int | None = Field(
        description="Its billable time at each entry's rate; null where the caller may not "
        "see rates."
    )
    archived_at: datetime | None
    created_by_user_id: uuid.UUID | None = Field(
        description="Who created it; null once their account is gone."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
