"""Cold start (benchmark 6), the calendar-view benchmark with peak RSS (7, 8), then one table of every
figure in bench-results.json (the sync benchmarks write theirs first: see `make bench`).

    .venv/bin/python -m tests.bench.bench_report [--starts 21] [--view-runs 40] [--json bench-results.json]
        [--only cold-start]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

# Both children start the same way and stop the clock the same way: the first paint of their main
# window has been delivered (the event loop has come back round after it). Ours goes through the
# real entry point (`calendar-app` with no arguments: the command line, the composition root, the
# profile's settings and database); the baseline is a bare QMainWindow.
#
# The probe watches the main window alone, from the moment it is shown. An application-wide Python
# event filter (the first version of this probe) makes PySide wrap every object and event of the
# start in Python and initialise about 130 more enum types: measured, it added about 22 ms to ours
# and nothing to the bare window, whose start has hardly any objects. The real app has no such filter.
FIRST_PAINT_PROBE = """
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print("shown", flush=True), os._exit(0)))
        return False

app = QApplication(sys.argv[:1])
probe = FirstPaint()
show = QMainWindow.show

def show_and_watch(window):
    window.installEventFilter(probe)
    show(window)

QMainWindow.show = show_and_watch
"""
# What `calendar-app` loads before Qt, in its order: the command line, then the composition root
# (`gui_command.run` imports `calendar_app.app` before `run_gui` loads PySide6). The probe needs Qt
# itself; importing these first keeps PySide's per-module import hook off them, as in a real start.
OURS = """
from calendar_app.cli import main
import calendar_app.app
""" + FIRST_PAINT_PROBE + """
main([])
"""
BARE = FIRST_PAINT_PROBE + """
window = QMainWindow()
window.show()
app.exec()
"""
# A rep's profile with Exchange sync switched on: the sync thread starts with the window (it then
# stops with "set the connection up again", there being no keystore: what it costs to get there counts).
CONFIGURED_SETTINGS = {"version": 1, "ews_url": "https://127.0.0.1:9/EWS/Exchange.asmx",
                       "mailbox": "rep@example.test", "username": "EXAMPLE\\rep", "integration_enabled": True}


def start_time_ms(code: str, profile: Path) -> float:
    environment = {name: value for name, value in os.environ.items()
                   # An installed app runs from compiled bytecode (pip compiles it); without this the
                   # editable checkout would be compiled from source on every start.
                   if name != "PYTHONDONTWRITEBYTECODE"}
    environment |= {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   **{name: str(profile / name.lower()) for name in
                      ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")}}
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=environment)
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = (time.perf_counter() - began) * 1000
    child.kill()
    child.wait()
    child.stdout.close()
    if line.strip() != b"shown":
        raise RuntimeError("the start-up child did not show its window")
    return elapsed


def bench_cold_start(starts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        empty, configured = Path(folder) / "empty", Path(folder) / "configured"
        settings_file = configured / "xdg_config_home" / "calendar-app" / "settings.json"
        settings_file.parent.mkdir(parents=True)
        settings_file.write_text(json.dumps(CONFIGURED_SETTINGS), encoding="utf-8")
        # fills the OS file cache, writes the bytecode cache and creates the profile's files once
        start_time_ms(OURS, empty)
        start_time_ms(OURS, configured)
        ours, synced, bare = [], [], []
        for _ in range(starts):  # interleaved, so a busy neighbour hits every side alike
            ours.append(start_time_ms(OURS, empty))
            synced.append(start_time_ms(OURS, configured))
            bare.append(start_time_ms(BARE, empty))
    result = {"ours_p50_ms": round(statistics.median(ours), 1), "ours_max_ms": round(max(ours), 1),
              "ours_sync_on_p50_ms": round(statistics.median(synced), 1),
              "ours_sync_on_max_ms": round(max(synced), 1),
              "baseline_p50_ms": round(statistics.median(bare), 1), "baseline_max_ms": round(max(bare), 1),
              "n": starts, "target": "ratio <= 2"}
    result["ratio_p50"] = round(result["ours_p50_ms"] / result["baseline_p50_ms"], 2)
    result["ratio_sync_on_p50"] = round(result["ours_sync_on_p50_ms"] / result["baseline_p50_ms"], 2)
    return result


def table(results: dict[str, Any]) -> str:
    lines = [f"{'benchmark':<22} figure"]
    for name, value in results.items():
        lines.append(f"{name:<22} {json.dumps(value)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=21)
    parser.add_argument("--view-runs", type=int, default=40)
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", choices=("cold-start",), help="run only this benchmark (the JSON file is "
                        "left alone)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    results["6_cold_start"] = bench_cold_start(args.starts)
    print("6 cold start:", json.dumps(results["6_cold_start"]), flush=True)
    if args.only == "cold-start":
        return 0
    with tempfile.TemporaryDirectory() as folder:
        views_json = Path(folder) / "views.json"
        subprocess.run([sys.executable, str(REPO_ROOT / "tests/bench/bench_calendar_views.py"), "--runs",
                        str(args.view_runs), "--json", str(views_json)], cwd=REPO_ROOT, check=True)
        views = json.loads(views_json.read_text())
    results["7_peak_rss"] = views.pop("peak_rss")
    results["8_calendar_views"] = {name: {k: round(v, 1) for k, v in figures.items()}
                                   for name, figures in views.items()}
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print("\n" + table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
