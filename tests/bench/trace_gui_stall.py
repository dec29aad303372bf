"""Where benchmark 5's long heartbeats come from: GUI work, or the GUI thread unable to run at all.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.bench.trace_gui_stall [--items 5000]
        [--sandbox-in-process] [--switch-interval 0.005]

Runs benchmark 5 and, beside it, times every GUI slot that sync news reaches (report, reload, one
appointment, status) and runs a watchdog thread that wakes every 5 ms. A long heartbeat during which
no slot ran, while the watchdog woke late too, was not GUI work: no Python thread of ours could run
(a C call keeping the GIL, or the OS not scheduling the process). For each late wake-up the watchdog
prints what the other threads were doing (threads waiting on a socket, lock or select are left out).
A diagnostic, not a benchmark: its own hooks cost a little time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import bench_sync
from tests.support.exchange_sandbox import running_sandbox

WATCH_SECONDS = 0.005
BLOCKED = ("ssl.py", "selectors.py", "threading.py", "socket.py", "socketserver.py:233")
began = time.perf_counter()
slots: list[tuple[float, float, str]] = []  # start ms, duration ms, slot
late_wakeups: list[tuple[float, float, dict[str, str]]] = []  # ms, late by ms, running threads' stacks
watching = threading.Event()


def ms(moment: float) -> float:
    return (moment - began) * 1000


def timed_slot(owner: type, name: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def slot(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            slots.append((ms(start), (time.perf_counter() - start) * 1000, f"{owner.__name__}.{name}"))

    setattr(owner, name, slot)


def running_stacks() -> dict[str, str]:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    stacks = {}
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident() or ident == threading.main_thread().ident:
            continue
        frames = traceback.extract_stack(frame)[-6:]
        text = " < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(frames))
        if not text.startswith(BLOCKED):
            stacks[names.get(ident, str(ident))] = text
    return stacks


def watchdog() -> None:
    expected = time.perf_counter() + WATCH_SECONDS
    while watching.is_set():
        time.sleep(WATCH_SECONDS)
        now = time.perf_counter()
        if now - expected > 0.02:
            late_wakeups.append((ms(now), (now - expected) * 1000, running_stacks()))
        expected = now + WATCH_SECONDS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--sandbox-in-process", action="store_true")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval for this run (default 0.005)")
    args = parser.parse_args(argv)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    from PySide6.QtCore import QTimer

    from calendar_app.gui.main_window import MainWindow
    from calendar_app.gui.sync_controller import SyncController

    for owner, name in ((SyncController, "_on_report"), (MainWindow, "reload"), (MainWindow, "appointment_changed"),
                        (MainWindow, "_show_sync_status")):
        timed_slot(owner, name)
    beats: list[tuple[float, float]] = []  # start ms, length ms
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        beats.append((ms(last[0]), (now - last[0]) * 1000))
        last[0] = now

    def start_watching() -> None:  # once the benchmark's window is up: its own heartbeat starts then too
        heartbeat.start()
        last[0] = time.perf_counter()
        watching.set()
        threading.Thread(target=watchdog, name="watchdog", daemon=True).start()

    original_start = SyncController.start

    def start(controller: SyncController) -> None:
        start_watching()
        original_start(controller)

    SyncController.start = start  # type: ignore[method-assign]
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if args.sandbox_in_process:
            with running_sandbox(folder / "sandbox") as sandbox:
                bench_sync.load_items(sandbox.server, args.items)
                result = bench_sync.bench_gui_stall(sandbox.server, folder, args.items)
        else:
            with bench_sync.sandbox_in_own_process(folder / "sandbox", args.items) as server:
                result = bench_sync.bench_gui_stall(server, folder, args.items)
    watching.clear()
    print("benchmark 5:", result)
    print(f"GUI slots: {len(slots)}, longest {max((d for _, d, _ in slots), default=0):.1f} ms; "
          f"(at ms, ms, slot): {[(round(s), round(d, 1), n) for s, d, n in slots if d > 2 or len(slots) <= 12]}")
    for start_ms, length in [(s, d) for s, d in beats if d > 40]:
        in_slots = [n for s, d, n in slots if s < start_ms + length and s + d > start_ms]
        late = [(round(t), round(by)) for t, by, _ in late_wakeups if start_ms <= t <= start_ms + length + 20]
        print(f"beat of {length:.0f} ms at {start_ms:.0f} ms: GUI slots in it {in_slots or 'none'}; "
              f"watchdog late (at ms, by ms) {late or 'no'}")
    print("late watchdog wake-ups and what was running:")
    for at, by, stacks in sorted(late_wakeups, key=lambda wakeup: -wakeup[1])[:12]:
        print(f"  {at:.0f} ms, {by:.0f} ms late: " + (" || ".join(f"{k}: {v}" for k, v in stacks.items())
                                                       or "every thread blocked (the OS did not run us)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
