"""A front end's day, driven through the generated Python client (`timesheet_client`).

Run by `.ci/clients` against a live server at $API_URL. Each step checks its answer; the
first wrong one stops the run with a message.
"""

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from timesheet_client import AuthenticatedClient, Client
from timesheet_client.api.auth import login, register
from timesheet_client.api.clients import create_client
from timesheet_client.api.projects import create_project
from timesheet_client.api.reports import summary_report
from timesheet_client.api.tags import create_tag
from timesheet_client.api.time_entries import (
    create_time_entry,
    list_time_entries,
    update_time_entry,
)
from timesheet_client.api.timer import get_my_timer, start_timer, stop_timer
from timesheet_client.api.workspaces import create_workspace
from timesheet_client.models import (
    ClientCreate,
    PasswordForm,
    Problem,
    ProjectCreate,
    ReportGroup,
    TagCreate,
    TimeEntryCreate,
    TimeEntryRead,
    TimeEntryUpdate,
    TimerStart,
    UserCreate,
    WorkspaceCreate,
)
from timesheet_client.types import Response

T = TypeVar("T")


def ok(response: Response[T | Problem], status: int, what: str) -> T:
    """The parsed body of a successful answer; anything else stops the scenario."""
    parsed = response.parsed
    if response.status_code != status or parsed is None or isinstance(parsed, Problem):
        sys.exit(f"{what}: expected {status}, got {response.status_code}: {response.content!r}")
    return parsed


def problem(response: Response[object], status: int, what: str) -> Problem:
    """The Problem an error answer parses to."""
    if response.status_code != status or not isinstance(response.parsed, Problem):
        sys.exit(f"{what}: expected a {status} Problem, got {response.status_code}")
    return response.parsed


# Where an entity's ETag is read, and how "no timer is running" (a 204) is told.


def etag(response: Response[object]) -> str:
    return response.headers["etag"]


def running_timer(api: AuthenticatedClient) -> TimeEntryRead | None:
    response = get_my_timer.sync_detailed(client=api)
    if response.status_code == 204:
        return None
    return ok(response, 200, "read the timer")


def main() -> None:
    base_url = os.environ["API_URL"]
    email = f"py-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    anonymous = Client(base_url=base_url)

    ok(
        register.sync_detailed(
            client=anonymous,
            body=UserCreate(email=email, password=password, full_name="Python Client"),
        ),
        201,
        "register",
    )
    wrong = PasswordForm(username=email, password=f"{password}!")
    refused = problem(
        login.sync_detailed(client=anonymous, body=wrong),
        401,
        "sign in with a wrong password",
    )
    assert refused.status == 401 and refused.title, refused
    tokens = ok(
        login.sync_detailed(client=anonymous, body=PasswordForm(username=email, password=password)),
        200,
        "sign in",
    )
    api = AuthenticatedClient(base_url=base_url, token=tokens.access_token)

    workspace = ok(
        create_workspace.sync_detailed(client=api, body=WorkspaceCreate(name="Python")),
        201,
        "create a workspace",
    )
    ws = workspace.id
    customer = ok(
        create_client.sync_detailed(ws, client=api, body=ClientCreate(name="Acme")),
        201,
        "create a client",
    )
    project = ok(
        create_project.sync_detailed(
            ws, client=api, body=ProjectCreate(name="Website", client_id=customer.id)
        ),
        201,
        "create a project",
    )
    tag = ok(
        create_tag.sync_detailed(ws, client=api, body=TagCreate(name="design")),
        201,
        "create a tag",
    )

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    created = create_time_entry.sync_detailed(
        ws,
        client=api,
        body=TimeEntryCreate(
            start_at=start,
            end_at=start + timedelta(hours=1),
            project_id=project.id,
            tag_ids=[tag.id],
            description="Wireframes",
        ),
    )
    entry = ok(created, 201, "create a time entry")
    first_etag = etag(created)

    page = ok(list_time_entries.sync_detailed(ws, client=api), 200, "list time entries")
    assert [item.id for item in page.items] == [entry.id], page.items

    updated = update_time_entry.sync_detailed(
        ws,
        entry.id,
        client=api,
        body=TimeEntryUpdate(description="Wireframes, second round"),
        if_match=first_etag,
    )
    edited = ok(updated, 200, "update the entry with If-Match")
    assert edited.description == "Wireframes, second round", edited
    assert etag(updated) != first_etag, "the ETag did not change with the entry"
    stale = problem(
        update_time_entry.sync_detailed(
            ws, entry.id, client=api, body=TimeEntryUpdate(description="Lost"), if_match=first_etag
        ),
        412,
        "update with a stale If-Match",
    )
    assert stale.status == 412, stale

    assert running_timer(api) is None, "a timer runs before any was started"
    timer = ok(
        start_timer.sync_detailed(
            ws, client=api, body=TimerStart(project_id=project.id, description="Call")
        ),
        201,
        "start the timer",
    )
    running = running_timer(api)
    assert running is not None and running.id == timer.id, running
    stopped = ok(stop_timer.sync_detailed(ws, client=api), 200, "stop the timer")
    assert stopped.id == timer.id and stopped.end_at, stopped
    assert running_timer(api) is None, "the timer still runs after it was stopped"

    report = ok(
        summary_report.sync_detailed(ws, client=api, group_by=ReportGroup.PROJECT),
        200,
        "summary report",
    )
    assert report.totals.seconds >= 3600, report.totals
    assert [group.label for group in report.groups] == ["Website"], report.groups

    print("Python client scenario: every step answered as expected")


if __name__ == "__main__":
    main()
