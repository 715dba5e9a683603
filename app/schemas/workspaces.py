import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, Field, StringConstraints

from app.enums import Role
from app.schemas.common import HourlyRateCents, Name, RatesHidden, Schema, UTCDatetime, examples

Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code.")
]


_OVERLAPS = "Whether a person's entries may not overlap (409 when they would)."
_RATES = "Whether members see rates and amounts; admins always do."
_LOCKED_BEFORE = (
    "Entries starting before this instant are closed: nobody changes them on any path "
    "(409 `urn:timesheet:problem:period-locked`). Null: no closed period."
)


class WorkspaceCreate(Schema):
    """A new workspace, owned by the caller."""

    model_config = examples(
        {"name": "Analytical Engines Ltd", "currency": "GBP", "default_hourly_rate_cents": 8000}
    )

    name: Name = Field(description="The workspace's name.")
    currency: Currency = "USD"
    default_hourly_rate_cents: HourlyRateCents = Field(
        default=0, description="Cents per hour where nothing more specific sets a rate."
    )
    prevent_overlaps: bool = Field(default=False, description=_OVERLAPS)
    members_can_see_rates: bool = Field(default=False, description=_RATES)


class WorkspaceUpdate(Schema):
    """Changes to a workspace; absent fields stay as they are."""

    model_config = examples({"prevent_overlaps": True})

    name: Name | MISSING = Field(MISSING, description="The workspace's new name.")
    currency: Currency | MISSING = MISSING
    default_hourly_rate_cents: HourlyRateCents | MISSING = Field(
        MISSING, description="Cents per hour where nothing more specific sets a rate."
    )
    prevent_overlaps: bool | MISSING = Field(MISSING, description=_OVERLAPS)
    members_can_see_rates: bool | MISSING = Field(MISSING, description=_RATES)
    locked_before: UTCDatetime | MISSING | None = Field(
        MISSING,
        description=_LOCKED_BEFORE + " Moving it later closes more time (409 naming the "
        "running entries that would start inside it); earlier or null reopens time.",
    )


class OwnershipTransfer(Schema):
    """The member to hand the workspace to."""

    model_config = examples({"user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70"})

    user_id: uuid.UUID = Field(description="The member who becomes the owner.")


class WorkspaceRead(RatesHidden):
    """A workspace, as the caller sees it."""

    model_config = examples(
        {
            "id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "name": "Analytical Engines Ltd",
            "owner_user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "currency": "GBP",
            "default_hourly_rate_cents": 8000,
            "prevent_overlaps": False,
            "members_can_see_rates": False,
            "locked_before": "2026-11-01T00:00:00Z",
            "role": "owner",
            "version": 2,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T10:00:00Z",
        }
    )

    id: uuid.UUID
    name: str = Field(description="The workspace's name.")
    owner_user_id: uuid.UUID = Field(description="The owner's user id.")
    currency: str = Field(description="ISO 4217 code of rates and amounts.")
    default_hourly_rate_cents: int | None = Field(
        description="Null where the caller may not see rates."
    )
    prevent_overlaps: bool = Field(description=_OVERLAPS)
    members_can_see_rates: bool = Field(description=_RATES)
    locked_before: datetime | None = Field(description=_LOCKED_BEFORE)
    role: Role = Field(description="The caller's role in the workspace.")
    version: int
    created_at: datetime
    updated_at: datetime


class WorkspaceRestoreRead(Schema):
    """What a restore made of an archive."""

    model_config = examples(
        {
            "workspace": WorkspaceRead.model_config["json_schema_extra"]["examples"][0],
            "source_workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "created": True,
            "dry_run": False,
            "counts": {"clients": 3, "projects": 7, "time_entries": 1520},
            "placeholders": 2,
            "invited": 1,
            "remapped": 0,
        }
    )

    workspace: WorkspaceRead | None = Field(
        description="The restored workspace; null on a dry run, which wrote nothing."
    )
    source_workspace_id: uuid.UUID = Field(description="The exported workspace's id.")
    created: bool = Field(
        description="False when this archive was restored here before: `workspace` is the "
        "one made then, and nothing was written now."
    )
    dry_run: bool = Field(description="Whether this was a dry run.")
    counts: dict[str, int] = Field(description="Records restored, per kind of the archive.")
    placeholders: int = Field(description="Inactive accounts made for people who have none here.")
    invited: int = Field(
        description="People with an account here, invited with their role and rate "
        "instead of being made members."
    )
    remapped: int = Field(description="Records whose id was taken here and got a new one.")
