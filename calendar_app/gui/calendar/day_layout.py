"""Where each appointment goes in a day/week grid: side-by-side columns for overlaps, and lanes
in the all-day row. Pure Python (no Qt) so it is cheap and easy to reason about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calendar_app.store import StoredAppointment

# Appointments lasting a day or more go to the all-day row, as in Outlook.
ALL_DAY_THRESHOLD = timedelta(hours=24)


@dataclass(frozen=True)
class TimedBlock:
    """One appointment's piece within one day (a meeting past midnight has two)."""

    stored: StoredAppointment
    day_index: int
    start_minute: float  # minutes after the day's local midnight
    end_minute: float
    column: int = 0
    columns: int = 1


@dataclass(frozen=True)
class AllDayBar:
    stored: StoredAppointment
    first_day: int  # indices into the visible days, clipped
    last_day: int
    lane: int


def is_all_day_like(stored: StoredAppointment) -> bool:
    a = stored.appointment
    return a.is_all_day or a.end - a.start >= ALL_DAY_THRESHOLD


def wall_dates(stored: StoredAppointment, zone: ZoneInfo) -> tuple[date, date]:
    """First and last calendar date it covers, as the rep sees them. All-day appointments keep
    their own dates (a holiday on the 3rd is on the 3rd in every zone)."""
    a = stored.appointment
    if a.is_all_day:
        return a.start.date(), (a.end - timedelta(days=1)).date() if a.end > a.start else a.start.date()
    start = a.start.astimezone(zone)
    end = a.end.astimezone(zone)
    last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
    return start.date(), last


def layout_timed(items: list[StoredAppointment], days: list[date], zone: ZoneInfo) -> list[TimedBlock]:
    index_of = {d: i for i, d in enumerate(days)}
    per_day: dict[int, list[TimedBlock]] = {}
    for stored in items:
        if is_all_day_like(stored):
            continue
        start = stored.appointment.start.astimezone(zone)
        end = stored.appointment.end.astimezone(zone)
        day = start.date()
        while day <= end.date():
            if day in index_of:
                midnight = datetime.combine(day, time(0), zone)
                begin = max(0.0, (start - midnight).total_seconds() / 60)
                finish = min(24 * 60.0, (end - midnight).total_seconds() / 60)
                if finish > begin:
                    i = index_of[day]
                    per_day.setdefault(i, []).append(TimedBlock(stored, i, begin, finish))
            day += timedelta(days=1)
    blocks: list[TimedBlock] = []
    for day_blocks in per_day.values():
        blocks.extend(_side_by_side(day_blocks))
    return blocks


def _side_by_side(blocks: list[TimedBlock]) -> list[TimedBlock]:
    """Greedy columns within each cluster of mutually overlapping blocks; every block in a
    cluster gets the cluster's column count, so widths line up."""
    blocks = sorted(blocks, key=lambda b: (b.start_minute, -b.end_minute, b.stored.appointment.uuid))
    result: list[TimedBlock] = []
    cluster: list[tuple[TimedBlock, int]] = []
    column_ends: list[float] = []
    cluster_end = -1.0

    def flush() -> None:
        width = max(1, len(column_ends))
        result.extend(TimedBlock(b.stored, b.day_index, b.start_minute, b.end_minute, col, width)
                      for b, col in cluster)

    for block in blocks:
        if cluster and block.start_minute >= cluster_end:
            flush()
            cluster, column_ends = [], []
        for col, end in enumerate(column_ends):
            if end <= block.start_minute:
                column_ends[col] = block.end_minute
                break
        else:
            col = len(column_ends)
            column_ends.append(block.end_minute)
        cluster.append((block, col))
        cluster_end = max(cluster_end, block.end_minute) if len(cluster) > 1 else block.end_minute
    if cluster:
        flush()
    return result


def layout_all_day(items: list[StoredAppointment], days: list[date], zone: ZoneInfo) -> list[AllDayBar]:
    if not days:
        return []
    first, last = days[0], days[-1]
    bars: list[AllDayBar] = []
    lane_ends: list[int] = []
    candidates = []
    for stored in items:
        if not is_all_day_like(stored):
            continue
        start, end = wall_dates(stored, zone)
        if end < first or start > last:
            continue
        candidates.append((max(0, (start - first).days), min(len(days) - 1, (end - first).days), stored))
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0]), c[2].appointment.subject))
    for first_index, last_index, stored in candidates:
        for lane, lane_end in enumerate(lane_ends):
            if lane_end < first_index:
                lane_ends[lane] = last_index
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(last_index)
        bars.append(AllDayBar(stored, first_index, last_index, lane))
    return bars
