"""A short day with the API in containers, over plain HTTP (Python's standard library only).

    python3 .ci/container_scenario.py create BASE_URL STATE_FILE
    python3 .ci/container_scenario.py check BASE_URL STATE_FILE

`create` registers, signs in, creates a workspace, a project and an entry, reads the summary
report and exports CSV, and keeps what `check` needs in STATE_FILE. `check`, after the API
restarted, signs in again and finds the same entry, report and export. The first answer that
is not as expected stops the run with a message.
"""

import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

CSV_HEADER_START = "id,user_email,user_name,client,project"


class Api:
    def __init__(self, base_url: str) -> None:
        if not base_url.startswith(("http://", "https://")):
            sys.exit(f"not an HTTP URL: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        headers = {"Accept": "*/*"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked above
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                got, content, answer_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            got, content, answer_headers = error.code, error.read(), error.headers
        if got != status:
            sys.exit(f"{method} {path}: expected {status}, got {got}: {content[:500]!r}")
        return content, {key.lower(): value for key, value in answer_headers.items()}

    def json(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        return json.loads(self.call(method, path, status, **kwargs)[0])

    def sign_in(self, email: str, password: str) -> None:
        self.token = None
        tokens = self.json(
            "POST", "/api/v1/auth/token", 200, form={"username": email, "password": password}
        )
        self.token = tokens["access_token"]


def check_report_and_export(api: Api, workspace: str, entry: str, seconds: int) -> None:
    summary = f"/api/v1/workspaces/{workspace}/reports/summary?group_by=project"
    report = api.json("GET", summary, 200)
    labels = [group["label"] for group in report["groups"]]
    if report["totals"]["seconds"] != seconds or labels != ["Website"]:
        sys.exit(f"summary report: unexpected {report}")
    print(f"summary report: {report['totals']['seconds']} s on {labels}")

    content, headers = api.call(
        "GET", f"/api/v1/workspaces/{workspace}/time-entries/export?format=csv", 200
    )
    lines = content.decode().splitlines()
    if not headers.get("content-type", "").startswith("text/csv"):
        sys.exit(f"CSV export: content type {headers.get('content-type')}")
    if not lines[0].startswith(CSV_HEADER_START) or len(lines) != 2 or entry not in lines[1]:
        sys.exit(f"CSV export: unexpected {lines}")
    print(f"CSV export: header and {len(lines) - 1} row, {lines[1][:60]}...")


def create(api: Api, state_file: str) -> None:
    email = f"container-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    api.json(
        "POST",
        "/api/v1/auth/register",
        201,
        body={"email": email, "password": password, "full_name": "Container Check"},
    )
    api.sign_in(email, password)
    print(f"registered and signed in as {email}")

    workspace = api.json("POST", "/api/v1/workspaces", 201, body={"name": "Containers"})["id"]
    project = api.json(
        "POST", f"/api/v1/workspaces/{workspace}/projects", 201, body={"name": "Website"}
    )["id"]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    entry = api.json(
        "POST",
        f"/api/v1/workspaces/{workspace}/time-entries",
        201,
        body={
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(minutes=90)).isoformat(),
            "project_id": project,
            "description": "Deployed in a container",
        },
    )["id"]
    print(f"workspace {workspace}, project {project}, entry {entry} (90 min)")
    check_report_and_export(api, workspace, entry, 5400)

    state = {"email": email, "password": password, "workspace": workspace, "entry": entry}
    with open(state_file, "w") as file:
        json.dump(state, file)


def check(api: Api, state_file: str) -> None:
    with open(state_file) as file:
        state = json.load(file)
    api.sign_in(state["email"], state["password"])
    workspace, entry = state["workspace"], state["entry"]
    page = api.json("GET", f"/api/v1/workspaces/{workspace}/time-entries", 200)
    if [item["id"] for item in page["items"]] != [entry]:
        sys.exit(f"time entries after the restart: unexpected {page}")
    print(f"after the restart: signed in again as {state['email']}, entry {entry} is there")
    check_report_and_export(api, workspace, entry, 5400)


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("create", "check"):
        sys.exit(__doc__)
    action, base_url, state_file = sys.argv[1:]
    api = Api(base_url)
    api.json("GET", "/readyz", 200)
    (create if action == "create" else check)(api, state_file)


if __name__ == "__main__":
    main()
