"""Reading exported CSV files as they really come: a byte-order mark or not, `,` `;` or tab
between fields, quoted fields holding quotes and line breaks, headers named a little
differently by every tracker and version. Rows are read one at a time, never the file."""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

DELIMITERS = (",", ";", "\t")

# What each column is called in the exports we read, by the name we use for it.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "user": ("user", "user name", "username", "member", "user_name"),
    "email": ("email", "user email", "e-mail", "user_email"),
    "client": ("client", "client name"),
    "project": ("project", "project name"),
    "task": ("task", "activity", "task name"),
    "description": ("description", "note", "notes"),
    "billable": ("billable",),
    "start_date": ("start date",),
    "start_time": ("start time",),
    "end_date": ("end date",),
    "end_time": ("end time",),
    "start_at": ("start_at",),
    "end_at": ("end_at",),
    "duration": ("duration", "duration (h)", "duration_seconds"),
    "duration_decimal": ("duration (decimal)",),
    "tags": ("tags", "tag"),
    "rate": ("billable rate", "hourly rate", "rate", "hourly_rate_cents"),
}


def header_names(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Our name for each column name of `aliases` (our name: the exports' names)."""
    return {alias: name for name, names in aliases.items() for alias in names}


_BY_HEADER = header_names(HEADER_ALIASES)
# "Amount (USD)", "Billable Rate (EUR)", "Amount ()": the currency is not part of the name.
_CURRENCY = re.compile(r"\s*\([a-z]{0,3}\)\s*$")


class UnreadableFile(Exception):
    """The file cannot be read as CSV at all (not text, no header)."""


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, str]
    # Why the row cannot be imported, when a step before parsing found out already.
    problem: str | None = None


def normalize_header(header: str, by_header: dict[str, str] = _BY_HEADER) -> str | None:
    """Our name for an export's column, or None for a column we do not use."""
    cleaned = " ".join(header.strip().lower().split())
    if cleaned in by_header:
        return by_header[cleaned]
    return by_header.get(_CURRENCY.sub("", cleaned))


def read_rows(stream: BinaryIO, by_header: dict[str, str] = _BY_HEADER) -> Iterator[RawRow]:
    """Each data row with the line it starts on (the header is line 1), keyed by our names
    (`by_header`: the time entry exports' columns unless a format has its own)."""
    lines = _lines(stream)
    try:
        first_line = next(lines, "")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("The file is not UTF-8 text.") from exc
    if not first_line.strip():
        raise UnreadableFile("The file is empty or has no header line.")
    delimiter = max(DELIMITERS, key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter))
    names = [normalize_header(column, by_header) for column in header]
    if not any(names):
        raise UnreadableFile("The header names none of the columns this format needs.")
    reader = csv.reader(lines, delimiter=delimiter)
    line = 2
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UnreadableFile(f"line {line}: {exc}") from exc
        if any(field.strip() for field in record):
            values = {
                name: value.strip()
                for name, value in zip(names, record, strict=False)
                if name is not None
            }
            yield RawRow(line, values)
        line = reader.line_num + 2


def _lines(stream: BinaryIO) -> Iterator[str]:
    """The text's lines, each with its end, split where `str.splitlines` splits. The file's
    own lines are read and decoded one at a time: a decoding error names its line."""
    decode = codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode
    for raw in iter(stream.readline, b""):
        yield from decode(raw).splitlines(keepends=True)
    # Bytes of a character cut short at the end of the file are an error too.
    decode(b"", final=True)
