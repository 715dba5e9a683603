"""Sign up and sign in to the server at TIMESHEET_URL, and create a workspace with one row of
each kind; print them as shell variables for .ci/schemathesis.toml.

Path parameters filled with ids that exist let schemathesis get past 404 to the rules.
"""

import os
import shlex
import time
import uuid

import httpx

STARTUP_TIMEOUT_SECONDS = 120
PASSWORD = "correct-horse-battery"  # noqa: S105 - a throwaway account on a test server


def wait_until_ready(base: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not become ready")


def created(client: httpx.Client, path: str, body: dict[str, object]) -> str:
    response = client.post(path, json=body)
    response.raise_for_status()
    return response.json()["id"]


def main() -> None:
    base = os.environ["TIMESHEET_URL"]
    wait_until_ready(base)
    client = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    created(client, "/auth/register", {"email": email, "password": PASSWORD, "full_name": "Fuzz"})
    signed_in = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    token = signed_in.raise_for_status().json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"

    workspace_id = created(client, "/workspaces", {"name": "Fuzz"})
    workspace = f"/workspaces/{workspace_id}"
    client_id = created(client, f"{workspace}/clients", {"name": "Fuzz client"})
    project_id = created(client, f"{workspace}/projects", {"name": "Fuzz", "client_id": client_id})
    task_id = created(client, f"{workspace}/tasks", {"name": "Fuzz", "project_id": project_id})
    tag_id = created(client, f"{workspace}/tags", {"name": "fuzz"})
    entry = {
        "start_at": "2024-05-06T09:00:00Z",
        "end_at": "2024-05-06T10:00:00Z",
        "task_id": task_id,
        "tag_ids": [tag_id],
    }
    webhook = f"{workspace}/webhooks"
    webhook_id = created(client, webhook, {"url": "https://example.com/h", "event_types": ["*"]})
    variables = {
        "TIMESHEET_TOKEN": token,
        "TIMESHEET_WORKSPACE_ID": workspace_id,
        "TIMESHEET_USER_ID": client.get("/users/me").raise_for_status().json()["id"],
        "TIMESHEET_CLIENT_ID": client_id,
        "TIMESHEET_PROJECT_ID": project_id,
        "TIMESHEET_TASK_ID": task_id,
        "TIMESHEET_TAG_ID": tag_id,
        "TIMESHEET_ENTRY_ID": created(client, f"{workspace}/time-entries", entry),
        # A week before the entry's, so that the entry stays open to edits.
        "TIMESHEET_APPROVAL_ID": created(
            client,
            f"{workspace}/approvals",
            {"period_start": "2024-04-29", "period_end": "2024-05-06"},
        ),
        "TIMESHEET_WEBHOOK_ID": webhook_id,
        "TIMESHEET_DELIVERY_ID": created(client, f"{webhook}/{webhook_id}/test", {}),
    }
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
