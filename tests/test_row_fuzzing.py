"""Whatever a row or record of a file holds, reading it ends in an entry or a record, or in
its own error (`RowError`, `BadRecord`, `RecordError`, reported with its line): never in an
exception that stops the whole import or restore."""

import io
import json
import zipfile
from datetime import time
from typing import get_args
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.enums import ImportFormat
from app.loader import harvest, toggl_account
from app.loader.catalog import BadRecord, CatalogRecord
from app.loader.formats import DateOrder, RowError, parse_row
from app.loader.reading import HEADER_ALIASES, RawRow, UnreadableFile, read_rows
from app.services.archive import LOADERS, Kind, RecordError, parse_record
from app.services.imports import check_texts

# Texts that real exports and hostile files put in a field, and any text at all.
_SHAPED = st.sampled_from(
    [
        "",
        " ",
        "NaN",
        "Infinity",
        "-Infinity",
        "-1",
        "1e400",
        "99999999999999999999",
        "0",
        "1,5",
        "1,234.50",
        "12:61",
        "24:00:00",
        "23:59:59",
        "9:05 pm",
        "13:00 PM",
        "2024-02-30",
        "02/30/2024",
        "0001-01-01",
        "9999-12-31",
        "2024-04-22T09:00:00+14:00",
        "2024-04-22T09:00:00",
        "[]",
        '["a"]',
        "[1]",
        "{}",
        "yes",
        "Non-billable",
        "ada@example.com",
        "a@b",
        "nul\x00inside",
        "x" * 6000,
        # Digits to `str.isdigit` that `int` refuses (superscripts), and others it reads.
        "²",
        "1:²0",
        "\uff19:30",
        "\u0663",
    ]
)
_FIELD = st.one_of(_SHAPED, st.text(max_size=40))
# A good row of each format, some of whose fields are then replaced or left out.
_GOOD = {
    ImportFormat.TOGGL_CSV: {
        "user": "Ada",
        "email": "ada@example.com",
        "client": "Acme",
        "project": "Site",
        "task": "Build",
        "description": "work",
        "billable": "Yes",
        "start_date": "2024-04-22",
        "start_time": "09:00:00",
        "end_date": "2024-04-22",
        "end_time": "10:30:00",
        "duration": "01:30:00",
        "tags": "a, b",
        "rate": "95.00",
    },
    ImportFormat.NATIVE_CSV: {
        "id": "42",
        "email": "ada@example.com",
        "project": "Site",
        "description": "work",
        "billable": "true",
        "start_at": "2024-04-22T09:00:00+00:00",
        "end_at": "2024-04-22T10:30:00+00:00",
        "tags": '["a", "b"]',
        "rate": "9500",
    },
}
_ZONES = st.sampled_from(
    [ZoneInfo("UTC"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("America/St_Johns")]
)


def _varied(draw: st.DrawFn, good: dict[str, str], names: list[str]) -> dict[str, str]:
    """`good` with up to four of `names` given another value or left out."""
    values = dict(good)
    for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        if draw(st.booleans()):
            values[name] = draw(_FIELD)
        else:
            values.pop(name, None)
    return values


@st.composite
def rows(draw: st.DrawFn) -> tuple[ImportFormat, dict[str, str]]:
    source = draw(st.sampled_from(sorted(_GOOD)))
    return source, _varied(draw, _GOOD[source], sorted(HEADER_ALIASES))


@settings(max_examples=3000, deadline=None)
@given(row=rows(), zone=_ZONES, order=st.sampled_from(list(DateOrder)))
def test_any_row_reads_as_an_entry_or_fails_alone(
    row: tuple[ImportFormat, dict[str, str]], zone: ZoneInfo, order: DateOrder
) -> None:
    source, values = row
    try:
        entry = parse_row(RawRow(2, values), source, zone, order)
        check_texts(entry)
    except RowError:
        return
    assert entry.start_at < entry.end_at
    assert entry.rate_cents is None or 0 <= entry.rate_cents < 2**31
    stored = (entry.email, entry.external_id, entry.client, entry.project, entry.task)
    assert not any("\x00" in text for text in (*stored, entry.description, *entry.tags))


_CSV_PIECES = st.sampled_from(
    [b",", b";", b"\t", b'"', b'""', b"\n", b"\r\n", b"\r", b"\xef\xbb\xbf", b"\xff", b"\x00"]
)


@settings(max_examples=1500, deadline=None)
@given(
    body=st.lists(
        st.one_of(_CSV_PIECES, st.binary(max_size=12), st.text(max_size=12).map(str.encode)),
        max_size=40,
    )
)
def test_any_file_reads_as_rows_or_is_refused_as_unreadable(body: list[bytes]) -> None:
    content = b"Email,Start date,Start time,End time,Tags\n" + b"".join(body)
    try:
        for row in read_rows(io.BytesIO(content)):
            assert row.line >= 2
    except UnreadableFile:
        return


_HARVEST = {
    "date": "2024-04-22",
    "client": "Acme",
    "project": "Site",
    "task": "Build",
    "notes": "work",
    "hours": "1.5",
    "billable": "Yes",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "rate": "95",
    "currency": "USD",
}
_HARVEST_PROJECT = {
    "client": "Acme",
    "name": "Site",
    "billable": "Yes",
    "bill_by": "Project",
    "rate": "95",
    "budget": "100",
    "budget_by": "Hours per project",
    "active": "Yes",
    "currency": "USD",
}


@st.composite
def harvest_rows(draw: st.DrawFn) -> dict[str, str]:
    return _varied(draw, _HARVEST, sorted(set(harvest.TIME_REPORT_COLUMNS.values())))


@settings(max_examples=1500, deadline=None)
@given(values=harvest_rows(), zone=_ZONES)
def test_any_harvest_row_reads_as_an_entry_or_fails_alone(
    values: dict[str, str], zone: ZoneInfo
) -> None:
    people = harvest.People([harvest.Member("ada@example.com", "Ada Lovelace")], "w1", True)
    try:
        [placed] = harvest.time_report_rows(
            [RawRow(2, values)], people, day_start=time(9), currency="USD"
        )
        entry = parse_row(placed, ImportFormat.HARVEST_CSV, zone, DateOrder.MONTH_FIRST)
        check_texts(entry)
    except (RowError, UnreadableFile):
        return
    assert entry.start_at < entry.end_at


@st.composite
def harvest_projects(draw: st.DrawFn) -> dict[str, str]:
    return _varied(draw, _HARVEST_PROJECT, sorted(set(harvest.PROJECT_COLUMNS.values())))


@settings(max_examples=1000, deadline=None)
@given(values=harvest_projects())
def test_any_harvest_project_reads_as_a_record_or_fails_alone(values: dict[str, str]) -> None:
    try:
        records = list(harvest.project_records([RawRow(2, values)], "USD"))
    except UnreadableFile:
        return
    assert len(records) == 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | _SHAPED,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# Toggl's account files with the fields its records are read from.
_ACCOUNT_FIELDS = {
    "workspace_users.json": ("uid", "user_id", "id", "email", "name", "rate"),
    "clients.json": ("id", "name", "archived"),
    "tags.json": ("id", "name"),
    "projects.json": (
        "id",
        "name",
        "cid",
        "client_id",
        "color",
        "billable",
        "rate",
        "currency",
        "estimated_hours",
        "estimated_seconds",
        "active",
        "is_private",
    ),
    "tasks.json": ("id", "name", "project_id", "pid", "estimated_seconds", "active"),
    "projects_users/1.json": ("uid", "user_id", "rate"),
}


@st.composite
def account_files(draw: st.DrawFn) -> dict[str, list[object]]:
    files: dict[str, list[object]] = {}
    for name, fields in _ACCOUNT_FIELDS.items():
        records = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({}, optional=dict.fromkeys(fields, _JSON)),
                    _JSON,
                ),
                max_size=3,
            )
        )
        files[name] = records
    return files


@settings(max_examples=600, deadline=None)
@given(files=account_files())
def test_any_toggl_account_record_reads_as_a_record_or_fails_alone(
    files: dict[str, list[object]],
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, records in files.items():
            archive.writestr(name, json.dumps(records))
    buffer.seek(0)
    try:
        records = list(toggl_account.account_records(buffer, "USD"))
    except UnreadableFile:
        return
    assert all(isinstance(record, (*get_args(CatalogRecord), BadRecord)) for record in records)


_ARCHIVE_VALUES = [
    "2024-04-22T09:00:00+00:00",
    "2024-04-22",
    "ada@example.com",
    "member",
    "owner",
    "import",
    "manual",
    "approved",
    "time_entry.*",
    ["time_entry.created"],
    "#0b7285",
    2**31,
    -1,
]


@st.composite
def archive_records(draw: st.DrawFn) -> tuple[Kind, dict[str, object]]:
    kind = draw(st.sampled_from(list(Kind)))
    names = [*LOADERS[kind], "tag_ids"]
    # Every field there, or some left out; values of the kinds the columns take among them.
    value = _JSON | st.uuids().map(str) | st.sampled_from(_ARCHIVE_VALUES)
    fields = dict.fromkeys(names, value)
    record = draw(st.fixed_dictionaries(fields) | st.fixed_dictionaries({}, optional=fields))
    return kind, record


@settings(max_examples=1500, deadline=None)
@given(record=archive_records())
def test_any_archive_record_loads_or_is_refused_with_its_reason(
    record: tuple[Kind, dict[str, object]],
) -> None:
    kind, values = record
    try:
        parse_record(kind, json.dumps(values).encode())
    except RecordError:
        return
