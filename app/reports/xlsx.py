"""Spreadsheets (XLSX) written in constant memory and streamed from a temporary file.

`xlsxwriter` in `constant_memory` mode flushes each row to disk once the next begins, so a
sheet of any length costs one row of memory; the finished workbook is assembled in a
temporary file and sent in chunks. Dates and times are real spreadsheet dates in the
report's timezone, durations are day fractions shown as `[h]:mm`, amounts are numbers in
the workspace currency's format, and every text goes through `write_string`: a cell that
looks like a formula stays text.
"""

import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import IO, TYPE_CHECKING, Any

import xlsxwriter

if TYPE_CHECKING:
    from app.reports.document import Heading, Totalled

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 64 * 1024
SECONDS_PER_DAY = 86400
# The symbol and decimals of the currencies people most often bill in; any other is
# written with its ISO code.
_CURRENCIES = {
    "USD": ('"$"', 2, True),
    "EUR": ('"€"', 2, False),
    "GBP": ('"£"', 2, True),
    "CHF": ('"CHF"', 2, False),
    "JPY": ('"¥"', 0, True),
    "CAD": ('"CA$"', 2, True),
    "AUD": ('"A$"', 2, True),
}


def currency_format(currency: str) -> str:
    """The number format of an amount in `currency`, in whole units."""
    symbol, decimals, before = _CURRENCIES.get(currency, (f'"{currency}"', 2, False))
    number = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"{symbol}{number}" if before else f"{number} {symbol}"


@dataclass(frozen=True)
class Column:
    title: str
    # text, datetime, duration (seconds), amount (cents), number, or flag
    kind: str
    width: float = 14


class Sheet:
    """One worksheet written row by row: a frozen header, typed cells, a totals row."""

    def __init__(
        self, book: "Workbook", name: str, columns: Sequence[Column], zone: tzinfo | None
    ) -> None:
        self.book = book
        self.columns = list(columns)
        self.zone = zone
        self.sheet = book.book.add_worksheet(name[:31])
        self.row = 0
        header = book.style({"bold": True, "bottom": 1})
        for index, column in enumerate(self.columns):
            self.sheet.set_column(index, index, column.width)
            self.sheet.write_string(0, index, column.title, header)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def add(self, values: Sequence[Any], *, bold: bool = False) -> None:
        """One row, each value as its column's kind says; None leaves the cell empty."""
        for index, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            if value is None:
                continue
            style = self.book.styles[column.kind, bold]
            if column.kind in ("text", "flag"):
                text = value if column.kind == "text" else ("Yes" if value else "No")
                self.sheet.write_string(self.row, index, str(text), style)
            elif column.kind == "datetime":
                local = value.astimezone(self.zone) if self.zone else value
                self.sheet.write_datetime(self.row, index, local.replace(tzinfo=None), style)
            elif column.kind == "duration":
                self.sheet.write_number(self.row, index, value / SECONDS_PER_DAY, style)
            elif column.kind == "amount":
                self.sheet.write_number(self.row, index, value / 100, style)
            else:
                self.sheet.write_number(self.row, index, value, style)
        self.row += 1


class Workbook:
    """A workbook in a temporary file: add sheets and rows, `close()`, stream `chunks()`,
    and `discard()` the file in the end."""

    def __init__(self, currency: str) -> None:
        handle, self.path = tempfile.mkstemp(prefix="timesheet-", suffix=".xlsx")
        os.close(handle)
        self.book = xlsxwriter.Workbook(
            self.path,
            {"constant_memory": True, "strings_to_formulas": False, "in_memory": False},
        )
        amount = currency_format(currency)
        formats = {
            "text": {},
            "flag": {},
            "number": {},
            "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
            "date": {"num_format": "yyyy-mm-dd"},
            "duration": {"num_format": "[h]:mm"},
            "amount": {"num_format": amount},
        }
        self.styles = {
            (kind, bold): self.style({**spec, "bold": bold})
            for kind, spec in formats.items()
            for bold in (False, True)
        }

    def style(self, spec: dict[str, Any]) -> Any:
        return self.book.add_format(spec)

    def sheet(self, name: str, columns: Sequence[Column], zone: tzinfo | None = None) -> Sheet:
        return Sheet(self, name, columns, zone)

    def close(self) -> None:
        """Assemble the file; slow for long sheets, so callers run it in a thread."""
        self.book.close()

    def chunks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as stream:
            yield from _read(stream)

    def discard(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)


def _read(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def _about(book: Workbook, heading: "Heading") -> None:
    """A second sheet saying what the report covers."""
    sheet = book.sheet("Report", [Column("", "text", 12), Column("", "text", 60)])
    sheet.add(["Report", heading.title])
    sheet.add(["Workspace", heading.workspace])
    sheet.add(["Period", f"{heading.period} ({heading.timezone})"])
    sheet.add(["Filters", "; ".join(heading.filters) or "none"])


def summary_workbook(
    heading: "Heading", totals: "Totalled", groups: Sequence["Totalled"]
) -> Workbook:
    """The summary report: one line per group and sub-group, then the totals; closed."""
    shows_amounts = totals.amount_cents is not None
    columns = [
        Column("Group", "text", 30),
        Column("Sub-group", "text", 30),
        Column("Hours", "duration", 10),
        Column("Billable hours", "duration", 14),
        *([Column("Amount", "amount", 14)] if shows_amounts else []),
    ]
    book = Workbook(heading.currency)
    try:
        sheet = book.sheet("Summary", columns)

        def line(group_label: str, sub_label: str | None, group: "Totalled", bold: bool) -> None:
            values: list[Any] = [group_label, sub_label, group.seconds, group.billable_seconds]
            if shows_amounts:
                values.append(group.amount_cents)
            sheet.add(values, bold=bold)

        for group in groups:
            line(group.label, None, group, bool(group.groups))
            for child in group.groups:
                line(group.label, child.label, child, False)
        line("Total", None, totals, True)
        _about(book, heading)
        book.close()
    except BaseException:
        book.discard()
        raise
    return book


def weekly_workbook(
    heading: "Heading",
    row_title: str,
    days: Sequence[date],
    rows: Sequence[tuple[str, Sequence[int], int]],
    day_totals: Sequence[int],
    total: int,
) -> Workbook:
    """The weekly timesheet: a line per person or project, a column per day; closed."""
    columns = [
        Column(row_title, "text", 28),
        *(Column(day.strftime("%a %Y-%m-%d"), "duration", 14) for day in days),
        Column("Total", "duration", 10),
    ]
    book = Workbook(heading.currency)
    try:
        sheet = book.sheet("Week", columns)
        for label, seconds, row_total in rows:
            sheet.add([label, *seconds, row_total])
        sheet.add(["Total", *day_totals, total], bold=True)
        _about(book, heading)
        book.close()
    except BaseException:
        book.discard()
        raise
    return book
