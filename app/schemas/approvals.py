import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.db.models.approval import NOTE_MAX_LENGTH
from app.enums import ApprovalState
from app.schemas.common import IdList, Input, RatesHidden, Schema, SupportedDate, examples

Note = Annotated[str, Field(max_length=NOTE_MAX_LENGTH, description="Why, for the person.")]


class ApprovalCreate(Schema):
    """A period of your own time to submit: dates in your timezone, the end excluded."""

    model_config = examples({"period_start": "2026-11-02", "period_end": "2026-11-09"})

    period_start: SupportedDate = Field(description="The period's first day.")
    period_end: SupportedDate = Field(
        description="The day after its last: a week is Monday to the next Monday."
    )


class ApprovalDecision(Schema):
    """What an admin says with a decision."""

    model_config = examples({"note": "Client call on the 4th is not billable."})

    note: Note = ""


class ApprovalRejection(Schema):
    """Why a period is sent back."""

    model_config = examples({"note": "The 5th is missing its afternoon."})

    note: Annotated[Note, Field(min_length=1)]


class ApprovalFilterQuery(Input):
    """Which approvals: whose, in which states, and touching which dates."""

    user_id: IdList = Field(default=[], description="Periods of these people (admins).")
    state: list[ApprovalState] = Field(default=[], max_length=5, description="In these states.")
    period_from: SupportedDate | None = Field(
        default=None, description="Periods ending after this day.", examples=["2026-11-01"]
    )
    period_to: SupportedDate | None = Field(
        default=None, description="Periods starting before this day.", examples=["2026-12-01"]
    )


class ApprovalRead(RatesHidden):
    """A submitted period and where it stands."""

    model_config = examples(
        {
            "id": "0c6a8e2f-4b1d-4e3a-9f5c-7d2e1a3b4c5d",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "period_start": "2026-11-02",
            "period_end": "2026-11-09",
            "timezone": "Europe/Berlin",
            "starts_at": "2026-11-01T23:00:00Z",
            "ends_at": "2026-11-08T23:00:00Z",
            "state": "approved",
            "note": "",
            "submitted_at": "2026-11-09T08:00:00Z",
            "decided_at": "2026-11-09T10:00:00Z",
            "decided_by_user_id": "1b3d5f7a-9c0e-4b2d-8f4a-6c8e0a2c4e6b",
            "seconds": 144000,
            "billable_seconds": 108000,
            "amount_cents": 300000,
            "version": 2,
            "created_at": "2026-11-09T08:00:00Z",
            "updated_at": "2026-11-09T10:00:00Z",
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID = Field(description="Whose time it is; they submitted it.")
    period_start: date = Field(description="The first day, in `timezone`.")
    period_end: date = Field(description="The day after the last, in `timezone`.")
    timezone: str = Field(description="The person's timezone when they submitted.")
    starts_at: datetime = Field(description="When `period_start` began there, in UTC.")
    ends_at: datetime = Field(description="When `period_end` began there, in UTC.")
    state: ApprovalState = Field(
        description="`submitted` (closed to its person), `approved` (closed to everyone), "
        "`rejected`, `withdrawn` or `reopened` (history: the time is open again)."
    )
    note: str = Field(description="What the last decision said.")
    submitted_at: datetime = Field(description="When it was submitted.")
    decided_at: datetime | None = Field(description="When it was approved or rejected.")
    decided_by_user_id: uuid.UUID | None = Field(description="Who approved or rejected it.")
    seconds: int | None = Field(description="The period's time when it was decided.")
    billable_seconds: int | None = Field(description="Its billable part, when decided.")
    amount_cents: int | None = Field(
        description="Its billable amount when decided; null before, or where you may not see "
        "rates. A report on the period now shows whether anything changed since."
    )
    version: int
    created_at: datetime
    updated_at: datetime
