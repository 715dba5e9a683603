"""Harvest's CSV exports: the detailed time report, the clients and the projects.

The time report has a date and a number of hours but no clock times. Each person's entries
of a day start at the day's start (09:00 unless told otherwise, in the run's timezone) and
follow one another, back to back, in the order of the file. It names people by first and
last name; `People` says how they are matched. A row has no id of its own: its date, person,
client, project, task, notes and hours (and how many identical rows came before it) make
one, so importing the file again, or with another day start, creates nothing.
"""

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from app.loader.catalog import (
    BadRecord,
    ClientRecord,
    ProjectRecord,
    Where,
    hours_seconds,
    yes_no,
)
from app.loader.formats import RowError, amount_cents
from app.loader.reading import RawRow, UnreadableFile, header_names

DEFAULT_DAY_START = time(9)

TIME_REPORT_COLUMNS = header_names(
    {
        "date": ("date", "spent date"),
        "client": ("client",),
        "project": ("project",),
        "task": ("task",),
        "notes": ("notes",),
        "hours": ("hours",),
        "billable": ("billable?", "billable"),
        "first_name": ("first name",),
        "last_name": ("last name",),
        "email": ("email", "e-mail", "user email"),
        "rate": ("billable rate",),
        "currency": ("currency",),
    }
)
CLIENT_COLUMNS = header_names(
    {
        "name": ("client name", "client", "name"),
        "active": ("active", "active?", "is active"),
    }
)
PROJECT_COLUMNS = header_names(
    {
        "client": ("client", "client name"),
        "name": ("project", "project name"),
        "billable": ("billable", "billable?", "is billable"),
        "bill_by": ("bill by",),
        "rate": ("billable rate", "billable rate (hourly)", "hourly rate", "project hourly rate"),
        "budget": ("budget",),
        "budget_by": ("budget by",),
        "active": ("is active", "active", "active?"),
        "currency": ("currency",),
    }
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# "USD", "US Dollar - USD", "Euro (EUR)": the code is the last three capitals.
_CURRENCY_CODE = re.compile(r"([A-Z]{3})\W*$")
_MAX_DAY_SECONDS = 24 * 3600


DAY_START_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


def parse_day_start(text: str) -> time:
    """`HH:MM` (or `H:MM`) as a time of day."""
    if re.fullmatch(DAY_START_PATTERN, text.strip()) is None:
        raise ValueError(f"{text!r} is not a time of day (HH:MM)")
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Member:
    email: str
    full_name: str


class People:
    """Who a row of the time report is, by these rules in turn:

    1. the row's Email, when the file has that column and the row fills it;
    2. the member whose full name is the row's first and last name, ignoring case and
       spacing (two members of that name: the row fails, an Email column tells them apart);
    3. the placeholder member of that name, `first.last@<workspace>.harvest.invalid` (an
       address that can never be delivered to), if an earlier import made it or missing
       members are to be created (the import then makes it, inactive); else the row fails.
    """

    def __init__(self, members: Iterable[Member], workspace_key: str, create_missing: bool):
        self.workspace_key = workspace_key
        self.create_missing = create_missing
        self.emails: set[str] = set()
        self.by_name: dict[str, list[str]] = {}
        for member in members:
            self.emails.add(member.email.lower())
            self.by_name.setdefault(_name_key(member.full_name), []).append(member.email.lower())

    def email_of(self, name: str, email: str) -> str:
        if email:
            return email.lower()
        if not name:
            raise RowError("no first name, last name or email: the person cannot be matched")
        named = self.by_name.get(_name_key(name), [])
        if len(named) == 1:
            return named[0]
        if named:
            raise RowError(f"{len(named)} members are named {name!r}: add an Email column")
        placeholder = placeholder_email(name, self.workspace_key)
        if placeholder in self.emails or self.create_missing:
            return placeholder
        raise RowError(f"no member is named {name!r} (add an Email column, or create members)")


def placeholder_email(name: str, workspace_key: str) -> str:
    """The address a person known only by name gets in one workspace: the same name, the
    same address, so a second import finds the member the first one made."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")[:48]
    if not slug:
        slug = "person." + hashlib.sha256(_name_key(name).encode()).hexdigest()[:12]
    return f"{slug}@{workspace_key}.harvest.invalid"


def time_report_rows(
    rows: Iterable[RawRow], people: People, *, day_start: time, currency: str
) -> Iterator[RawRow]:
    """The report's rows with clock times, in the columns the entry parser reads; a row that
    cannot be placed carries its problem instead."""
    next_start: dict[tuple[str, date], datetime] = {}
    repeats: Counter[str] = Counter()
    checked = False
    for row in rows:
        if not checked:
            _require(row, ("date", "hours"))
            if not {"first_name", "last_name", "email"} & row.values.keys():
                raise UnreadableFile("The header has no First Name, Last Name or Email column.")
            checked = True
        try:
            yield _placed(row, people, day_start, currency, next_start, repeats)
        except RowError as error:
            yield RawRow(row.line, row.values, str(error))


def _placed(
    row: RawRow,
    people: People,
    day_start: time,
    currency: str,
    next_start: dict[tuple[str, date], datetime],
    repeats: Counter[str],
) -> RawRow:
    values = row.values
    day = _day(values.get("date", ""))
    seconds = _hours(values.get("hours", ""))
    name = " ".join(f"{values.get('first_name', '')} {values.get('last_name', '')}".split())
    email = people.email_of(name, values.get("email", "").strip())
    rate = values.get("rate", "")
    code = _currency(values.get("currency", ""))
    if code and code != currency and amount_cents(rate, "billable rate"):
        raise RowError(f"the rate is in {code}; the workspace bills in {currency}")
    start = next_start.get((email, day)) or datetime.combine(day, day_start)
    try:
        end = start + timedelta(seconds=seconds)
    except OverflowError as exc:
        raise RowError("the entry ends past year 9999") from exc
    next_start[(email, day)] = end
    identity = "\x1f".join(
        [
            day.isoformat(),
            _name_key(name) or email,
            *(values.get(key, "") for key in ("client", "project", "task", "notes")),
            str(seconds),
        ]
    )
    repeats[identity] += 1
    return RawRow(
        row.line,
        {
            "id": _digest("harvest", identity, str(repeats[identity])),
            "email": email,
            "user": name or email,
            "client": values.get("client", ""),
            "project": values.get("project", ""),
            "task": values.get("task", ""),
            "description": values.get("notes", ""),
            "billable": values.get("billable", ""),
            "start_date": start.date().isoformat(),
            "start_time": start.time().isoformat(),
            "end_date": end.date().isoformat(),
            "end_time": end.time().isoformat(),
            "rate": rate,
        },
    )


def client_records(rows: Iterable[RawRow]) -> Iterator[ClientRecord | BadRecord]:
    checked = False
    for row in rows:
        if not checked:
            _require(row, ("name",))
            checked = True
        where = Where(row.line)
        name = row.values.get("name", "")
        if not name:
            yield BadRecord(where, "no client name")
            continue
        try:
            active = yes_no(row.values.get("active", ""), "active")
        except RowError as error:
            yield BadRecord(where, str(error))
            continue
        yield ClientRecord(where, name, archived=None if active is None else not active)


def project_records(rows: Iterable[RawRow], currency: str) -> Iterator[ProjectRecord | BadRecord]:
    """Projects with their client, rate, budget (hours: an estimate; fees: a budget) and
    whether they are active; a project code or notes have no place here and are left out."""
    checked = False
    for row in rows:
        if not checked:
            _require(row, ("name",))
            checked = True
        try:
            yield _project(row, currency)
        except RowError as error:
            yield BadRecord(Where(row.line), str(error))


def _project(row: RawRow, currency: str) -> ProjectRecord:
    values = row.values
    name = values.get("name", "")
    if not name:
        raise RowError("no project name")
    rate = amount_cents(values.get("rate", ""), "billable rate")
    code = _currency(values.get("currency", ""))
    if code and code != currency and (rate or _budget_is_money(values.get("budget_by", ""))):
        raise RowError(f"the project's amounts are in {code}; the workspace bills in {currency}")
    billable = yes_no(values.get("billable", ""), "billable")
    if billable is None and values.get("bill_by"):
        billable = values["bill_by"].strip().lower() not in {"none", "no", "not billable"}
    estimate = budget = None
    budget_by = values.get("budget_by", "").strip().lower()
    if budget_by not in {"none", "no budget"}:
        if _budget_is_money(budget_by):
            budget = amount_cents(values.get("budget", ""), "budget") or None
        else:
            estimate = hours_seconds(values.get("budget", ""), "budget")
    active = yes_no(values.get("active", ""), "active")
    return ProjectRecord(
        Where(row.line),
        name,
        client=values.get("client", ""),
        is_billable=billable,
        hourly_rate_cents=rate,
        estimate_seconds=estimate,
        budget_cents=budget,
        archived=None if active is None else not active,
    )


def _budget_is_money(budget_by: str) -> bool:
    """Harvest budgets by hours ("Total project hours", "project") or by fees ("Total
    project fees", "project_cost")."""
    lowered = budget_by.lower()
    return "fee" in lowered or "cost" in lowered


def _require(row: RawRow, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in row.values]
    if missing:
        raise UnreadableFile(f"The header has no {', '.join(missing)} column.")


def _day(text: str) -> date:
    text = text.strip()
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise RowError(f"date {text!r} is not a date (YYYY-MM-DD)")


def _hours(text: str) -> int:
    """Decimal hours (`1.5`, `1,5`) or hours and minutes (`1:30`) as whole seconds."""
    text = text.strip()
    try:
        if ":" in text:
            hours_text, _, minutes_text = text.partition(":")
            if not (hours_text.isdecimal() and minutes_text.isdecimal() and len(minutes_text) == 2):
                raise InvalidOperation
            seconds = int(hours_text) * 3600 + int(minutes_text) * 60
        else:
            hours = Decimal(text.replace(",", "."))
            if not hours.is_finite():
                raise InvalidOperation
            seconds = int((hours * 3600).to_integral_value())
    except InvalidOperation as exc:
        raise RowError(f"hours {text!r} is not a number of hours") from exc
    if seconds <= 0:
        raise RowError(f"hours {text!r}: no time to import")
    if seconds > _MAX_DAY_SECONDS:
        raise RowError(f"hours {text!r} is more than a day")
    return seconds


def _currency(text: str) -> str:
    """The currency's code, or "" when the text names none."""
    text = text.strip()
    if len(text) == 3 and text.isalpha():
        return text.upper()
    match = _CURRENCY_CODE.search(text)
    return match[1] if match else ""


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
