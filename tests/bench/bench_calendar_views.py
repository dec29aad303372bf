"""How quickly the calendar reacts with a big store: 50,000 appointments, 2,000 of them in the
visible month. Reports week switch, month switch and editor open times (median and p95).

Not part of `make test` (no timing asserts in tests). Run it with:

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_calendar_views.py [--json out.json]

Wall-clock time is what the rep feels, but on a machine shared with other work it mostly
measures the neighbours; the CPU time of the GUI thread (time.thread_time) is printed beside it.
Each measured step includes the SQLite read of the new range, the model reset, the layout and a
synchronous repaint of the visible view, i.e. what the rep waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication

from calendar_app.domain import FreeBusy, new_appointment
from calendar_app.gui.calendar.navigation import ViewMode
from calendar_app.gui.main_window import MainWindow
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database
from calendar_app.store.appointment_repository import _row_values, forget_decoded_lists
from calendar_app.store.settings_file import Settings

ZONE = ZoneInfo("Europe/Berlin")
TOTAL = 50_000
IN_MONTH = 2_000
MONTH = date(2026, 3, 1)
SUBJECTS = ("Account review", "Discovery call", "Quote follow-up", "Site visit", "Contract signing",
            "Partner meeting", "Pipeline call", "Product demo", "Coaching", "Team stand-up")


def fill(database: Database) -> None:
    """Bulk insert in one transaction with the repository's own row layout (adding 50,000 one by
    one through the repository would take minutes and measure nothing of interest)."""
    rng = random.Random(20260311)
    rows = []
    month_days = [MONTH + timedelta(days=i) for i in range(31)]
    for i in range(TOTAL):
        if i < IN_MONTH:
            day = rng.choice(month_days)
        else:  # the rest spread over eight years around the month, none inside it
            day = date(2022, 1, 1) + timedelta(days=rng.randrange(8 * 365))
            while day.year == 2026 and day.month == 3:
                day = date(2022, 1, 1) + timedelta(days=rng.randrange(8 * 365))
        start = datetime(day.year, day.month, day.day, rng.randrange(7, 19), rng.choice((0, 15, 30, 45)),
                         tzinfo=ZONE)
        all_day = rng.random() < 0.03
        if all_day:
            start = start.replace(hour=0, minute=0)
        a = new_appointment(
            subject=f"{rng.choice(SUBJECTS)} #{i}", start=start,
            end=start + (timedelta(days=1) if all_day else timedelta(minutes=rng.choice((15, 30, 60, 90)))),
            timezone="Europe/Berlin", is_all_day=all_day, location=rng.choice(("", "Teams", "Room 4.12")),
            required_attendees=tuple(f"p{n}@example.com" for n in range(rng.randrange(4))),
            free_busy=rng.choice(list(FreeBusy)), categories=(rng.choice(("Customer", "Internal", "Prospect")),),
        )
        rows.append(_row_values(a))
    columns = list(rows[0])
    with database.transaction() as c:
        # the column names are the repository's own constants; every value is a bound parameter
        c.executemany(f"INSERT INTO appointments ({', '.join(columns)}) "  # noqa: S608
                      f"VALUES ({', '.join('?' * len(columns))})",
                      [tuple(r.values()) for r in rows])
        c.executemany("INSERT INTO sync_status (uuid, state, item_id) VALUES (?, ?, ?)",
                      [(r["uuid"], rng.choice(("synced",) * 8 + ("pending", "failed")), f"AAMk{r['uuid']}")
                       for r in rows])
    with database.reading() as c:
        in_month = c.execute("SELECT COUNT(*) FROM appointments WHERE start_utc >= ? AND start_utc < ?",
                             ("2026-02-28T23:00", "2026-03-31T22:00")).fetchone()[0]
    print(f"store: {TOTAL} appointments, {in_month} in {MONTH:%B %Y}")


def measure(label: str, runs: int, step: Callable[[int], None],
            between: Callable[[], None] = lambda: None) -> dict[str, float]:
    times = []
    cpu_times = []
    for i in range(runs):
        between()  # not timed: what happens while the rep looks at the screen
        began, began_cpu = time.perf_counter(), time.thread_time()
        step(i)
        times.append((time.perf_counter() - began) * 1000)
        cpu_times.append((time.thread_time() - began_cpu) * 1000)
    times.sort()
    cpu_times.sort()
    result = {"median_ms": statistics.median(times), "p95_ms": _p95(times), "max_ms": times[-1],
              "gui_cpu_median_ms": statistics.median(cpu_times), "gui_cpu_p95_ms": _p95(cpu_times), "runs": runs}
    print(f"{label:<36} wall median {result['median_ms']:6.1f} p95 {result['p95_ms']:6.1f} ms | "
          f"GUI-thread CPU median {result['gui_cpu_median_ms']:6.1f} p95 {result['gui_cpu_p95_ms']:6.1f} ms")
    return result


def _p95(sorted_times: list[float]) -> float:
    return sorted_times[max(0, int(len(sorted_times) * 0.95 + 0.5) - 1)]


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux carries that
    over from the parent into a spawned child, which would report the benchmark's own peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def month_open_rss(database_path: Path) -> float:
    """Peak RSS of a fresh process that opens the filled store the way the app does and shows
    the Month view, then pages a few months on and back (benchmark 7). A child process, so the
    benchmark's own bulk fill (50,000 appointments held at once) is not counted."""
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    database = Database.open(database_path)
    window = MainWindow(CalendarService(database), Settings(integration_enabled=True), zone=ZONE,
                        now=lambda: datetime(2026, 3, 11, 10, 40, tzinfo=ZONE))
    window.resize(1500, 900)
    window.set_view(ViewMode.MONTH)
    window.go_to(MONTH)
    window.show()
    for direction in (1, 1, 1, -1, -1, -1):
        app.processEvents()
        window.range_loader.wait()
        app.processEvents()
        window.step(direction)
        window.stack.currentWidget().repaint()
    shown = len(window.model.appointments())
    window.close()
    database.close()
    print(f"month view with {shown} appointments", file=sys.stderr)
    return peak_rss_mb()


def bare_window_rss() -> float:
    """The same figure for a bare PySide6 QMainWindow, shown and painted."""
    from PySide6.QtWidgets import QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1500, 900)
    window.show()
    app.processEvents()
    window.repaint()
    return peak_rss_mb()


def rss_of_child(*arguments: str) -> float:
    done = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rss-of-month-view", type=Path, metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument("--rss-of-bare-window", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_of_month_view:
        print(month_open_rss(args.rss_of_month_view))
        return 0
    if args.rss_of_bare_window:
        print(bare_window_rss())
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        database = Database.open(Path(folder) / "calendar.sqlite3")
        began = time.perf_counter()
        fill(database)
        print(f"filled in {time.perf_counter() - began:.1f} s")
        service = CalendarService(database)
        now = datetime(2026, 3, 11, 10, 40, tzinfo=ZONE)
        window = MainWindow(service, Settings(integration_enabled=True), zone=ZONE, now=lambda: now)
        window.resize(1500, 900)
        window.show()
        app.processEvents()

        def repaint() -> None:
            # what the screen needs: the visible part of the view, synchronously
            if window.stack.currentWidget() is window.week_view:
                window.week_view.header.repaint()
                window.week_view.scroll.viewport().repaint()
            else:
                window.stack.currentWidget().repaint()

        def prefetched() -> None:
            deadline = time.perf_counter() + 0.2
            while time.perf_counter() < deadline:  # the rep looks at the week for a moment
                app.processEvents()
                time.sleep(0.01)
            window.range_loader.wait()
            app.processEvents()  # deliver the worker's results to the GUI thread

        def cold() -> None:
            prefetched()
            window.range_loader.invalidate()  # as after a change arrived from sync
            forget_decoded_lists()  # and nothing else read before either

        def flip(i: int) -> None:
            window.step(1 if i % 2 == 0 else -1)
            repaint()

        for mode, name in ((ViewMode.WORK_WEEK, "work week"), (ViewMode.WEEK, "full week"),
                           (ViewMode.MONTH, "month")):
            window.set_view(mode)
            window.go_to(date(2026, 3, 9))
            repaint()
            key = name.replace(" ", "_")
            results[f"{key}_switch"] = measure(f"{name} next/prev (prefetched)", args.runs, flip, prefetched)
            results[f"{key}_switch_cold"] = measure(f"{name} next/prev (cold read)", args.runs, flip, cold)
        window.set_view(ViewMode.MONTH)
        window.go_to(date(2026, 3, 11))
        results["view_switch"] = measure("view month <-> work week", args.runs, lambda i: (
            window.set_view(ViewMode.WORK_WEEK if i % 2 == 0 else ViewMode.MONTH), repaint()), prefetched)
        window.set_view(ViewMode.MONTH)
        uuids = [s.appointment.uuid for s in window.model.appointments()]
        print(f"month view shows {len(uuids)} appointments")

        def open_editor(i: int) -> None:
            editor = window.open_appointment(uuids[i * 37 % len(uuids)])
            assert editor is not None
            editor.repaint()
            editor.reject()

        results["editor_open"] = measure("editor open (existing appointment)", args.runs, open_editor)
        results["new_editor_open"] = measure("editor open (new appointment)", args.runs,
                                             lambda _i: (window.new_appointment().repaint(),
                                                         window.editor.reject()))  # type: ignore[union-attr]
        window.close()
        # issue 9, benchmark 7: the app's peak RSS with 50,000 stored and the Month view open, in a
        # process of its own; this process's peak also holds the bulk fill
        app_rss = rss_of_child("--rss-of-month-view", str(Path(folder) / "calendar.sqlite3"))
        bare_rss = rss_of_child("--rss-of-bare-window")
        results["peak_rss"] = {"peak_rss_mb": round(app_rss, 1), "bare_qmainwindow_mb": round(bare_rss, 1),
                               "this_benchmark_process_mb": round(peak_rss_mb(), 1)}
        print(f"peak RSS, Month view over 50,000 stored: {app_rss:.0f} MB (bare QMainWindow {bare_rss:.0f} MB; "
              f"this benchmark process, with its bulk fill: {peak_rss_mb():.0f} MB)")
        database.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
