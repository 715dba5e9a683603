"""Toggl Track's account data export: a ZIP of JSON files, each a list of records.

`workspace_users.json` (people: email, name, rate), `clients.json`, `tags.json`,
`projects.json` (client_id, color, billable, rate, estimated_seconds or estimated_hours,
active, is_private), `projects_users/<project id>.json` (who is on a project, at which rate)
and the tasks, in `tasks.json` or `tasks/<project id>.json`. Records name each other by
Toggl's ids; they come out here by name, in the order they can be written: people, clients,
tags, projects, project members, tasks. The files may sit in one folder inside the archive.
"""

import json
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from app.loader.catalog import (
    BadRecord,
    CatalogRecord,
    ClientRecord,
    MemberRecord,
    ProjectMemberRecord,
    ProjectRecord,
    TagRecord,
    TaskRecord,
    Where,
    hours_seconds,
)
from app.loader.formats import RowError, amount_cents
from app.loader.reading import UnreadableFile

# A JSON file is read whole; no catalog comes near this, a crafted archive might.
MAX_FILE_BYTES = 64 * 1024 * 1024
_KNOWN = ("workspace_users.json", "clients.json", "tags.json", "projects.json", "tasks.json")


def account_records(stream: BinaryIO, currency: str) -> Iterator[CatalogRecord | BadRecord]:
    """The archive's records in writing order, or a `BadRecord` with its file and number."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile("The file is not a ZIP archive.") from exc
    with archive:
        files = _Files(archive)
        emails: dict[Any, str] = {}
        for where, record in files.records("workspace_users.json"):
            try:
                member = _member(where, record)
            except RowError as error:
                yield BadRecord(where, str(error))
                continue
            for key in ("uid", "user_id", "id"):
                if (user_id := _id(record, key)) is not None:
                    emails.setdefault(user_id, member.email)
            yield member
        clients: dict[Any, str] = {}
        for where, record in files.records("clients.json"):
            try:
                client = ClientRecord(where, _name(record), archived=_flag(record, "archived"))
            except RowError as error:
                yield BadRecord(where, str(error))
                continue
            clients[_id(record, "id")] = client.name
            yield client
        for where, record in files.records("tags.json"):
            try:
                yield TagRecord(where, _name(record))
            except RowError as error:
                yield BadRecord(where, str(error))
        projects: dict[Any, str] = {}
        for where, record in files.records("projects.json"):
            try:
                project = _project(where, record, clients, currency)
            except RowError as error:
                yield BadRecord(where, str(error))
                continue
            projects[_id(record, "id")] = project.name
            yield project
        for project_id, project_name in projects.items():
            if project_id is None:
                continue
            for where, record in files.records(f"projects_users/{project_id}.json"):
                try:
                    yield _project_member(where, record, project_name, emails)
                except RowError as error:
                    yield BadRecord(where, str(error))
        task_files = ["tasks.json", *(f"tasks/{key}.json" for key in projects if key is not None)]
        for name in task_files:
            for where, record in files.records(name):
                try:
                    yield _task(where, record, projects)
                except RowError as error:
                    yield BadRecord(where, str(error))


class _Files:
    """The archive's JSON files by their name under the folder holding `projects.json`."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        roots = sorted(
            (
                root
                for name in names
                for known in _KNOWN
                if name.endswith(known) and _is_folder(root := name[: -len(known)])
            ),
            key=len,
        )
        if not roots:
            raise UnreadableFile(
                "The archive holds none of Toggl's account files "
                "(workspace_users.json, clients.json, projects.json, tags.json, tasks.json)."
            )
        self.root = roots[0]
        self.names = set(names)

    def records(self, name: str) -> Iterator[tuple[Where, dict[str, Any]]]:
        path = self.root + name
        if path not in self.names:
            return
        try:
            with self.archive.open(path) as member:
                content = member.read(MAX_FILE_BYTES + 1)
        # A damaged member, an unknown compression or a password: the archive is unreadable.
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise UnreadableFile(f"{name} cannot be read from the archive: {exc}") from exc
        if len(content) > MAX_FILE_BYTES:
            raise UnreadableFile(f"{name} is over {MAX_FILE_BYTES // (1024 * 1024)} MiB.")
        try:
            records = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnreadableFile(f"{name} is not JSON text: {exc}") from exc
        if not isinstance(records, list):
            raise UnreadableFile(f"{name} is not a JSON list of records.")
        for number, record in enumerate(records, start=1):
            where = Where(number, name)
            if isinstance(record, dict):
                yield where, record
            else:
                yield where, {"_not_an_object": record}


def _is_folder(prefix: str) -> bool:
    return not prefix or prefix.endswith("/")


def _id(record: dict[str, Any], *keys: str) -> int | str | None:
    """Toggl's id of a record or of what it names: a number (or a string), else None."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return value
    return None


def _name(record: dict[str, Any], key: str = "name") -> str:
    if "_not_an_object" in record:
        raise RowError("the record is not a JSON object")
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"no {key}")
    return value.strip()


def _flag(record: dict[str, Any], key: str) -> bool | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise RowError(f"{key} {value!r} is neither true nor false")
    return value


def _member(where: Where, record: dict[str, Any]) -> MemberRecord:
    email = _name(record, "email").lower()
    full_name = record.get("name")
    return MemberRecord(
        where,
        email,
        full_name.strip() if isinstance(full_name, str) and full_name.strip() else email,
        hourly_rate_cents=amount_cents(record.get("rate"), "rate"),
    )


def _project(
    where: Where, record: dict[str, Any], clients: dict[Any, str], currency: str
) -> ProjectRecord:
    name = _name(record)
    client_id = _id(record, "client_id", "cid")
    if client_id is not None and client_id not in clients:
        raise RowError(f"client {client_id!r} is not in clients.json")
    rate = amount_cents(record.get("rate"), "rate")
    code = record.get("currency")
    if rate and isinstance(code, str) and code and code.upper() != currency:
        raise RowError(f"the rate is in {code}; the workspace bills in {currency}")
    estimate = record.get("estimated_seconds")
    if estimate is not None and (isinstance(estimate, bool) or not isinstance(estimate, int)):
        raise RowError(f"estimated_seconds {estimate!r} is not a whole number")
    active = _flag(record, "active")
    color = record.get("color")
    return ProjectRecord(
        where,
        name,
        client=clients[client_id] if client_id is not None else "",
        color=color if isinstance(color, str) else None,
        is_billable=_flag(record, "billable"),
        hourly_rate_cents=rate,
        estimate_seconds=estimate or hours_seconds(record.get("estimated_hours"), "estimate"),
        private=_flag(record, "is_private"),
        archived=None if active is None else not active,
    )


def _project_member(
    where: Where, record: dict[str, Any], project: str, emails: dict[Any, str]
) -> ProjectMemberRecord:
    if "_not_an_object" in record:
        raise RowError("the record is not a JSON object")
    user_id = _id(record, "user_id", "uid")
    if user_id not in emails:
        raise RowError(f"user {user_id!r} is not in workspace_users.json")
    return ProjectMemberRecord(
        where, project, emails[user_id], hourly_rate_cents=amount_cents(record.get("rate"), "rate")
    )


def _task(where: Where, record: dict[str, Any], projects: dict[Any, str]) -> TaskRecord:
    name = _name(record)
    project_id = _id(record, "project_id", "pid")
    if project_id not in projects:
        raise RowError(f"project {project_id!r} is not in projects.json")
    estimate = record.get("estimated_seconds")
    if estimate is not None and (isinstance(estimate, bool) or not isinstance(estimate, int)):
        raise RowError(f"estimated_seconds {estimate!r} is not a whole number")
    active = _flag(record, "active")
    return TaskRecord(
        where,
        projects[project_id],
        name,
        estimate_seconds=estimate or None,
        done=None if active is None else not active,
    )
