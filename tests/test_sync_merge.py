"""The three-way merge and the invitation rule, on their own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app.domain.remote_items import SendTo
from calendar_app.sync.invitations import recipients_for_update
from calendar_app.sync.merge import ConflictPolicy, fields_to_send, merge
from tests.support.calendar_sync import meeting

BASE = meeting(location="Room 1", required_attendees=("buyer@fabrikam.com",))
LATER = timedelta(hours=1)


def test_one_sided_changes_merge_whatever_the_policy() -> None:
    local = BASE.with_changes(subject="Mine")
    remote = BASE.with_changes(location="Theirs", start=BASE.start + LATER, end=BASE.end + LATER)
    for policy in ConflictPolicy:
        result = merge(BASE, local, remote, policy)
        assert result.conflicts == ()
        assert result.merged == remote.with_changes(subject="Mine")


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    both = BASE.with_changes(subject="Same")
    assert merge(BASE, both, both, ConflictPolicy.ASK).conflicts == ()


@pytest.mark.parametrize(("policy", "subject", "conflicts"), [
    (ConflictPolicy.ASK, "Mine", 1), (ConflictPolicy.KEEP_MINE, "Mine", 0), (ConflictPolicy.TAKE_EXCHANGE, "Theirs", 0),
])
def test_same_field_changes_follow_the_policy(policy: ConflictPolicy, subject: str, conflicts: int) -> None:
    result = merge(BASE, BASE.with_changes(subject="Mine"), BASE.with_changes(subject="Theirs"), policy)
    assert result.merged.subject == subject and len(result.conflicts) == conflicts


def test_start_and_end_merge_as_one_so_a_meeting_never_ends_before_it_starts() -> None:
    local = BASE.with_changes(start=BASE.start + 3 * LATER, end=BASE.end + 3 * LATER)  # moved later here
    remote = BASE.with_changes(end=BASE.start + timedelta(minutes=30))  # shortened in Outlook
    result = merge(BASE, local, remote, ConflictPolicy.ASK)
    assert {c.field for c in result.conflicts} == {"start", "end"}
    assert result.merged == local
    assert merge(BASE, local, remote, ConflictPolicy.TAKE_EXCHANGE).merged == remote


def test_without_a_base_every_local_difference_is_the_reps() -> None:
    local = BASE.with_changes(subject="Mine")
    assert merge(None, local, BASE, ConflictPolicy.ASK).merged == local


def test_updates_send_whole_groups() -> None:
    assert fields_to_send(BASE, BASE.with_changes(end=BASE.end + LATER)) == ["start", "end", "timezone", "is_all_day"]
    assert fields_to_send(BASE, BASE.with_changes(optional_attendees=("x@contoso.com",))) == [
        "required_attendees", "optional_attendees"]
    assert fields_to_send(BASE, BASE) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"subject": "New"}, SendTo.NOBODY),
    ({"reminder_minutes": 5}, SendTo.NOBODY),
    ({"location": "Room 2"}, SendTo.ALL_ATTENDEES),
    ({"start": BASE.start + LATER, "end": BASE.end + LATER}, SendTo.ALL_ATTENDEES),
    ({"required_attendees": ("buyer@fabrikam.com", "cfo@fabrikam.com")}, SendTo.CHANGED_ATTENDEES),
    ({"required_attendees": (), "optional_attendees": ("buyer@fabrikam.com",)}, SendTo.NOBODY),
])
def test_who_hears_about_an_update(changes: dict[str, object], expected: SendTo) -> None:
    after = BASE.with_changes(**changes)
    assert recipients_for_update(BASE, after, fields_to_send(BASE, after)) is expected


def test_an_appointment_without_attendees_tells_nobody() -> None:
    alone = meeting()
    moved = alone.with_changes(location="Elsewhere", start=alone.start + LATER, end=alone.end + LATER)
    assert recipients_for_update(alone, moved, fields_to_send(alone, moved)) is SendTo.NOBODY
