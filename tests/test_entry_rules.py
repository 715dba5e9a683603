"""The pure rules of a time entry: rate precedence, references, intervals, overlaps."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.errors import Conflict, InvalidInput, ReferenceMissing
from app.services.entry_rules import (
    ProjectFacts,
    TakenTime,
    TaskFacts,
    assignable_project,
    check_interval,
    hourly_rate,
    live_tags,
    overlaps,
    task_project,
)

NINE = datetime(2024, 4, 22, 9, tzinfo=UTC)


def project(**facts: object) -> ProjectFacts:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "is_billable": True,
        "hourly_rate_cents": None,
        "member_rate_cents": None,
        "visible": True,
        "archived": False,
        "deleted": False,
    }
    return ProjectFacts(**{**values, **facts})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("member_on_project", "project_rate", "membership", "expected"),
    [
        (5000, 6000, 7000, 5000),
        (None, 6000, 7000, 6000),
        (None, None, 7000, 7000),
        (None, None, None, 8000),
    ],
)
def test_rate_precedence(
    member_on_project: int | None, project_rate: int | None, membership: int | None, expected: int
) -> None:
    facts = project(member_rate_cents=member_on_project, hourly_rate_cents=project_rate)
    rate = hourly_rate(
        billable=True, project=facts, member_rate_cents=membership, default_rate_cents=8000
    )
    assert rate == expected


def test_no_rate_without_billable_time_and_the_member_rate_without_a_project() -> None:
    facts = project(hourly_rate_cents=6000)
    none = hourly_rate(billable=False, project=facts, member_rate_cents=1, default_rate_cents=2)
    assert none is None
    alone = hourly_rate(billable=True, project=None, member_rate_cents=7000, default_rate_cents=1)
    assert alone == 7000


def test_assignable_project() -> None:
    visible = project()
    assert assignable_project(visible, sees_all=False) is visible
    private = project(visible=False)
    assert assignable_project(private, sees_all=True) is private
    for missing in (None, private, project(deleted=True)):
        with pytest.raises(ReferenceMissing) as refused:
            assignable_project(missing, sees_all=False)
        assert refused.value.problems[0].field == ("project_id",)
    with pytest.raises(Conflict):
        assignable_project(project(archived=True), sees_all=True)


def test_a_task_names_its_project_or_must_match_the_one_given() -> None:
    task = TaskFacts(uuid.uuid4(), uuid.uuid4(), visible=True)
    assert task_project(task, None, given=False, sees_all=False) == task.project_id
    assert task_project(task, task.project_id, given=True, sees_all=False) == task.project_id
    for project_id in (None, uuid.uuid4()):
        with pytest.raises(InvalidInput) as refused:
            task_project(task, project_id, given=True, sees_all=False)
        assert refused.value.problems[0].field == ("task_id",)
    with pytest.raises(ReferenceMissing):
        task_project(None, None, given=False, sees_all=True)


def test_a_task_of_a_project_out_of_sight_is_as_missing_as_none() -> None:
    hidden = TaskFacts(uuid.uuid4(), uuid.uuid4(), visible=False)
    for project_id, given in ((None, False), (hidden.project_id, True), (uuid.uuid4(), True)):
        with pytest.raises(ReferenceMissing) as refused:
            task_project(hidden, project_id, given=given, sees_all=False)
        with pytest.raises(ReferenceMissing) as missing:
            task_project(None, project_id, given=given, sees_all=False)
        assert refused.value.detail == missing.value.detail
        assert refused.value.problems == missing.value.problems
    assert task_project(hidden, None, given=False, sees_all=True) == hidden.project_id


def test_tags_are_checked_one_by_one_and_kept_once() -> None:
    first, second, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert live_tags([first, second, first], {first, second}) == [first, second]
    with pytest.raises(ReferenceMissing) as refused:
        live_tags([first, gone, gone], {first})
    assert [problem.field for problem in refused.value.problems] == [
        ("tag_ids", 1),
        ("tag_ids", 2),
    ]


def test_intervals() -> None:
    hour = timedelta(hours=1)
    check_interval(NINE, NINE + hour, now=NINE, end_given=True)
    with pytest.raises(InvalidInput) as refused:
        check_interval(NINE, NINE, now=NINE, end_given=False)
    assert refused.value.problems[0].field == ("start_at",)
    with pytest.raises(InvalidInput):
        check_interval(NINE + hour, None, now=NINE, end_given=False)
    # A running entry's start in the future is refused only when it is being set.
    check_interval(NINE + hour, None, now=NINE, end_given=False, start_changed=False)


def test_taken_time_answers_as_overlaps_does_span_by_span() -> None:
    """Random stored spans (overlapping each other at times, some running) and random new
    spans, each taken when it overlaps nothing: `TakenTime` agrees with `overlaps` against
    every span taken so far."""
    rng = random.Random(20261204)

    def span(running_share: float) -> tuple[datetime, datetime | None]:
        start = NINE + timedelta(minutes=rng.randrange(0, 2000, 5))
        if rng.random() < running_share:
            return start, None
        return start, start + timedelta(minutes=rng.randrange(5, 240, 5))

    for _ in range(200):
        stored = [span(0.05) for _ in range(rng.randrange(0, 8))]
        taken = TakenTime(stored)
        spans = list(stored)
        for _ in range(40):
            start, end = span(0.02)
            expected = any(overlaps(start, end, *other) for other in spans)
            assert taken.overlaps(start, end) is expected, (stored, spans, start, end)
            if not expected:
                taken.take(start, end)
                spans.append((start, end))


def test_half_open_overlaps() -> None:
    hour = timedelta(hours=1)
    assert not overlaps(NINE, NINE + hour, NINE + hour, NINE + 2 * hour)
    assert overlaps(NINE, NINE + 2 * hour, NINE + hour, NINE + 3 * hour)
    assert overlaps(NINE + 5 * hour, NINE + 6 * hour, NINE, None)
    assert not overlaps(NINE - hour, NINE, NINE, None)
    assert overlaps(NINE, None, NINE + hour, NINE + 2 * hour)
