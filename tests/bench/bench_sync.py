"""Sync benchmarks against the sandbox over real TLS + NTLM: ours and a bare exchangelib baseline in
the same run (see `make bench` and the README's "Performance and reliability").

    .venv/bin/python -m tests.bench.bench_sync [--saves 200] [--pulls 30] [--items 5000] [--only push,pull]

1 push latency   local save -> item on the server, through run_live + a poke, vs CalendarItem.save()
2 pull latency   another client's save -> in the local store, via the streaming notifier
3 first sync     N items loaded into the sandbox store -> local store, vs the fastest bare fetch
4 incremental    one change among N: SOAP requests and time
5 GUI stall      longest 10 ms heartbeat gap on the GUI thread during 3, window + SyncController running
Not part of `make test`: timings are printed and written to JSON, never asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from calendar_app.domain import new_appointment
from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.exchange.streaming_notifier import StreamingChangeNotifier
from calendar_app.sandbox import SandboxServer
from calendar_app.store import AppointmentRepository, Database
from calendar_app.sync.change_notifier import NoChangeNotifier
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.live_sync import run_live
from tests.support.exchange_sandbox import REP_MAILBOX, open_calendar, running_sandbox

MODE = SignInMode.IMPERSONATION
ZONE = ZoneInfo("Europe/Berlin")
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values_ms), 2), "p95_ms": round(p95(values_ms), 2),
            "max_ms": round(max(values_ms), 2), "n": len(values_ms)}


def calendar_count(server: SandboxServer) -> int:
    mailbox = server.mailbox(REP_MAILBOX)
    with mailbox.lock:
        return len(mailbox.folders["calendar"].items)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.001) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the benchmark's condition never became true")
        time.sleep(step)


def appointment(n: int, label: str) -> Any:
    start = datetime(2027, 3, 1, 8, tzinfo=ZONE) + timedelta(hours=n % 2000)
    return new_appointment(subject=f"{label} {n}", start=start, end=start + timedelta(minutes=30),
                           timezone="Europe/Berlin")


@contextmanager
def live_engine(database: Database, server: SandboxServer, *, streaming: bool
                ) -> Iterator[tuple[threading.Event, Any]]:
    calendar = open_calendar(server, MODE)
    engine = SyncEngine(database, calendar, retry_base_seconds=0.05)
    notifier: Any = (StreamingChangeNotifier(lambda: open_calendar(server, MODE).account)
                     if streaming else NoChangeNotifier())
    if streaming:
        notifier.wait_until_streaming(30)
    cancel, poke = threading.Event(), threading.Event()
    runs_done = threading.Semaphore(0)
    thread = threading.Thread(target=run_live, args=(engine, notifier, cancel),
                              kwargs={"local_change": poke, "catch_up_seconds": 3600.0,
                                      "on_report": lambda _report: runs_done.release()}, daemon=True)
    thread.start()
    try:
        yield poke, runs_done
    finally:
        cancel.set()
        thread.join(30)
        notifier.close()


# ---------------------------------------------------------------------- 1 push latency
def bench_push(server: SandboxServer, folder: Path, saves: int) -> dict[str, Any]:
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
    from exchangelib.items import SEND_TO_NONE

    database = Database.open(folder / "push.sqlite3")
    repo = AppointmentRepository(database)
    ours: list[float] = []
    # The clock stops when the sandbox stores the item (its own change listener, on its request
    # thread), not when a poll notices: polling every millisecond added up to a millisecond and
    # took the GIL from the threads being measured.
    arrivals: list[float] = []
    arrived = threading.Event()

    def on_change(event: Any) -> None:
        if event.kind == "CreatedEvent" and event.folder == "calendar":
            arrivals.append(time.perf_counter())
            arrived.set()

    mailbox = server.mailbox(REP_MAILBOX)
    mailbox.listeners.append(on_change)
    try:
        with live_engine(database, server, streaming=False) as (poke, runs_done):
            runs_done.acquire(timeout=30)  # the first (empty) run is done
            for n in range(saves):
                arrived.clear()
                arrivals.clear()
                began = time.perf_counter()
                repo.add(appointment(n, "Push"))
                poke.set()
                if not arrived.wait(30):
                    raise TimeoutError("a pushed appointment never reached the sandbox")
                ours.append((arrivals[0] - began) * 1000)
                runs_done.acquire(timeout=30)  # the run is over before the next save: saves are seconds apart
                while runs_done.acquire(blocking=False):
                    pass
    finally:
        mailbox.listeners.remove(on_change)
    account = open_calendar(server, MODE).account
    zone = EWSTimeZone("Europe/Berlin")
    bare: list[float] = []
    for n in range(saves):
        start = EWSDateTime(2027, 6, 1, 8, tzinfo=zone) + timedelta(hours=n)
        item = CalendarItem(account=account, folder=account.calendar, subject=f"Bare {n}", start=start,
                            end=start + timedelta(minutes=30))
        began = time.perf_counter()
        item.save(send_meeting_invitations=SEND_TO_NONE)
        bare.append((time.perf_counter() - began) * 1000)
    database.close()
    result: dict[str, Any] = {"ours": summary(ours), "baseline": summary(bare)}
    result["ratio_p50"] = round(result["ours"]["p50_ms"] / result["baseline"]["p50_ms"], 2)
    result["target"] = "ratio <= 1.5"
    return result


# ---------------------------------------------------------------------- 2 pull latency
def bench_pull(server: SandboxServer, folder: Path, pulls: int) -> dict[str, Any]:
    from calendar_app.exchange.item_mapping import new_calendar_item

    database = Database.open(folder / "pull.sqlite3")
    reader = Database.open(folder / "pull.sqlite3")
    other = open_calendar(server, SignInMode.OWN_ACCOUNT)

    def stored() -> int:
        with reader.reading() as c:
            return int(c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0])

    from exchangelib.items import SEND_TO_NONE

    latencies: list[float] = []
    with live_engine(database, server, streaming=True):
        wait_for(lambda: stored() >= calendar_count(server), timeout=120)  # the initial pull is done
        for n in range(pulls):
            before = stored()
            item = new_calendar_item(other.account, appointment(n, "Pulled"))
            item.save(send_meeting_invitations=SEND_TO_NONE)
            began = time.perf_counter()  # the other client's save has returned: the change exists
            wait_for(lambda before=before: stored() > before)
            latencies.append((time.perf_counter() - began) * 1000)
            time.sleep(0.05)
    reader.close()
    database.close()
    return {"ours": summary(latencies), "target": "p50 <= 1000 ms"}


# ---------------------------------------------------------------------- 3 + 4 first and incremental sync
def load_items(server: SandboxServer, count: int) -> None:
    first = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    for n in range(count):
        start = first + timedelta(hours=3 * n)
        end = start + timedelta(hours=1)
        server.add_calendar_item(REP_MAILBOX, (
            f'<t:CalendarItem xmlns:t="{TYPES}"><t:Subject>Visit {n}</t:Subject>'
            f"<t:Body BodyType=\"Text\">Notes for visit {n}</t:Body><t:Location>Room {n % 40}</t:Location>"
            f"<t:Start>{start:%Y-%m-%dT%H:%M:%SZ}</t:Start><t:End>{end:%Y-%m-%dT%H:%M:%SZ}</t:End>"
            "</t:CalendarItem>"), notify=False)
    # Write the sandbox's state file now: its periodic save (every 2 s, in this process) would
    # otherwise serialise all the loaded items during the first timed run, which is always ours
    # (measured: about 0.3 s of the GIL taken from our first sync, never from the baselines).
    server.store.save()


@contextmanager
def counting_requests(server: SandboxServer) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()

    def listener(direction: str, operation: str, _payload: bytes) -> None:
        if direction == "request":
            counts[operation] += 1

    server.traffic_listeners.append(listener)
    try:
        yield counts
    finally:
        server.traffic_listeners.remove(listener)


def bare_fetch_sync_items(server: SandboxServer) -> int:
    account = open_calendar(server, MODE).account
    return sum(1 for _ in account.calendar.sync_items(max_changes_returned=512))


def bare_fetch_find_then_get(server: SandboxServer) -> int:
    from calendar_app.exchange.item_mapping import READ_FIELDS  # the fields the app reads

    account = open_calendar(server, MODE).account
    ids = [(i.id, i.changekey) for i in account.calendar.all().only("id", "changekey")]
    return sum(1 for _ in account.fetch(ids=ids, only_fields=list(READ_FIELDS)))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = action()
    return (time.perf_counter() - began) * 1000, value


def bench_first_and_incremental(server: SandboxServer, folder: Path, items: int, *, profile: Path | None
                                ) -> dict[str, Any]:
    database = Database.open(folder / "first.sqlite3")
    engine = SyncEngine(database, open_calendar(server, MODE))
    with counting_requests(server) as first_requests:
        ours_ms, report = timed(engine.run_once)
    with database.reading() as c:
        stored = int(c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0])
    baselines = {"SyncFolderItems (AllProperties) paged": bare_fetch_sync_items,
                 "FindItem + GetItem batches": bare_fetch_find_then_get}
    bare: dict[str, float] = {}
    for name, fetch in baselines.items():
        elapsed, fetched = timed(lambda fetch=fetch: fetch(server))  # type: ignore[misc]
        bare[name] = round(elapsed, 1)
        if fetched < items:
            raise RuntimeError(f"the baseline {name} fetched {fetched} of {items}")
    fastest = min(bare.values())
    first = {"items": items, "stored": stored, "converged": report.converged, "ours_ms": round(ours_ms, 1),
             "ours_items_per_s": round(items / ours_ms * 1000), "baselines_ms": bare,
             "baseline_items_per_s": round(items / fastest * 1000), "ratio": round(ours_ms / fastest, 2),
             "requests": dict(first_requests), "target": "ratio <= 1.3"}

    other = open_calendar(server, SignInMode.OWN_ACCOUNT)
    some = next(iter(server.calendar_items(REP_MAILBOX)))
    current = other.get(some.item_id)
    from calendar_app.domain.remote_items import SendTo

    other.update(some.item_id, current.change_key, current.appointment.with_changes(subject="Changed once"),
                 ["subject"], send_to=SendTo.NOBODY)
    with counting_requests(server) as incremental_requests:
        incremental_ms, report = timed(engine.run_once)
    with database.reading() as c:
        changed = c.execute("SELECT COUNT(*) FROM appointments WHERE subject = 'Changed once'").fetchone()[0]
    database.close()
    if profile is not None:  # a second first sync, profiled: the profiler's overhead stays out of the timing
        from pyinstrument import Profiler

        profiled = SyncEngine(Database.open(folder / "profiled.sqlite3"), open_calendar(server, MODE))
        profiler = Profiler(interval=0.002)
        profiler.start()
        profiled.run_once()
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=False, color=False), encoding="utf-8")
    incremental = {"ours_ms": round(incremental_ms, 1), "requests": dict(incremental_requests),
                   "round_trips": sum(incremental_requests.values()), "change_arrived": changed == 1,
                   "target": "one SyncFolderItems call"}
    return {"first_sync": first, "incremental_sync": incremental}


# ---------------------------------------------------------------------- 5 GUI stall during the first sync
@contextmanager
def sandbox_in_own_process(state_dir: Path, items: int) -> Iterator[Any]:
    """The sandbox with `items` appointments, served from a child process, as Exchange is served from
    another machine: in our process its work (lxml copies, the JSON of its periodic save: C calls that
    keep the GIL for tens of milliseconds) would stall our GUI thread, which the real server never does.
    Yields what `open_calendar` needs of a server: its URL and the root to trust."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve_sandbox, args=(state_dir, items, theirs), daemon=True)
    child.start()
    if not ours.poll(600):
        child.kill()
        raise RuntimeError("the sandbox process did not start")
    url, ca_pem = ours.recv()
    try:
        yield SimpleNamespace(url=url, ca_pem=ca_pem)
    finally:
        ours.send("stop")
        child.join(60)


def _serve_sandbox(state_dir: Path, items: int, connection: Any) -> None:
    with running_sandbox(state_dir) as sandbox:
        load_items(sandbox.server, items)
        connection.send((sandbox.server.url, sandbox.server.ca_pem))
        connection.recv()  # until the benchmark is done


def bench_gui_stall(server: Any, folder: Path, items: int) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from calendar_app.gui.main_window import MainWindow
    from calendar_app.gui.sync_controller import SyncController
    from calendar_app.services.calendar_service import CalendarService
    from calendar_app.store.settings_file import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    database = Database.open(folder / "gui.sqlite3")
    reader = Database.open(folder / "gui.sqlite3")

    def runner(cancel: threading.Event, local_change: threading.Event, on_report: Callable[[Any], None]) -> None:
        engine = SyncEngine(Database.open(folder / "gui.sqlite3"), open_calendar(server, MODE))
        run_live(engine, NoChangeNotifier(), cancel, local_change=local_change, on_report=on_report,
                 catch_up_seconds=3600.0)

    controller = SyncController(runner, server_text=server.url)
    window = MainWindow(CalendarService(database), Settings(integration_enabled=True, ews_url=server.url),
                        sync_source=controller)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(float(now - last[0]))
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    began = time.perf_counter()
    controller.start()
    deadline = time.perf_counter() + 600
    done = False
    next_check = 0.0
    while time.perf_counter() < deadline and not done:
        app.processEvents()
        time.sleep(0.001)
        if controller.reports_seen and time.perf_counter() >= next_check:  # the harness's own reads stay rare
            next_check = time.perf_counter() + 0.1
            with reader.reading() as c:
                done = int(c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0]) >= items
    # a moment more for the window to take in the last report
    settle = time.perf_counter() + 1.0
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - began
    heartbeat.stop()
    controller.stop()
    window.close()
    reader.close()
    database.close()
    worst = max(gaps) if gaps else float("nan")
    return {"items": items, "synced": done, "seconds": round(elapsed, 1), "heartbeats": len(gaps),
            "longest_gap_ms": worst, "longest_stall_ms": round(worst - 10, 1),
            "gaps_over_50ms": sum(1 for g in gaps if g > 60), "target": "stall <= 50 ms"}


BENCHES = ("push", "pull", "first", "gui")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--pulls", type=int, default=30)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--only", default=",".join(BENCHES))
    parser.add_argument("--sandbox-in-process", action="store_true",
                        help="benchmark 5: serve the sandbox from this process (its GIL use then counts too)")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of the first sync here")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    results: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if "push" in wanted:
            with running_sandbox(folder / "sandbox-push") as sandbox:
                results["1_push_latency"] = bench_push(sandbox.server, folder, args.saves)
            print("1 push:", json.dumps(results["1_push_latency"]), flush=True)
        if "pull" in wanted:
            with running_sandbox(folder / "sandbox-pull") as sandbox:
                results["2_pull_latency"] = bench_pull(sandbox.server, folder, args.pulls)
            print("2 pull:", json.dumps(results["2_pull_latency"]), flush=True)
        if "first" in wanted:
            with running_sandbox(folder / "sandbox-first") as sandbox:
                load_items(sandbox.server, args.items)
                both = bench_first_and_incremental(sandbox.server, folder, args.items, profile=args.profile)
            results["3_first_sync"], results["4_incremental_sync"] = both["first_sync"], both["incremental_sync"]
            print("3 first:", json.dumps(results["3_first_sync"]), flush=True)
            print("4 incremental:", json.dumps(results["4_incremental_sync"]), flush=True)
        if "gui" in wanted:
            if args.sandbox_in_process:
                with running_sandbox(folder / "sandbox-gui") as sandbox:
                    load_items(sandbox.server, args.items)
                    results["5_gui_stall"] = bench_gui_stall(sandbox.server, folder, args.items)
            else:
                with sandbox_in_own_process(folder / "sandbox-gui", args.items) as remote_server:
                    results["5_gui_stall"] = bench_gui_stall(remote_server, folder, args.items)
            results["5_gui_stall"]["sandbox"] = "in our process" if args.sandbox_in_process else "own process"
            print("5 gui:", json.dumps(results["5_gui_stall"]), flush=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
