"""Cold start (benchmark 6), the calendar-view benchmark with peak RSS (7, 8), then one table of every
figure in bench-results.json (the sync benchmarks write theirs first: see `make bench`).

    .venv/bin/python -m tests.bench.bench_report [--starts 7] [--view-runs 40] [--json bench-results.json]
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

# The app's own window on an empty profile database: everything the real start imports and builds.
OURS = """
import sys, tempfile
from pathlib import Path
from PySide6.QtWidgets import QApplication
from calendar_app.gui.main_window import MainWindow
from calendar_app.services.calendar_service import CalendarService
from calendar_app.store import Database
from calendar_app.store.settings_file import Settings
app = QApplication(sys.argv[:1])
folder = tempfile.mkdtemp()
window = MainWindow(CalendarService(Database.open(Path(folder) / "c.sqlite3")), Settings())
window.show()
app.processEvents()
print("shown", flush=True)
"""
BARE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.show()
app.processEvents()
print("shown", flush=True)
"""


def start_time_ms(code: str) -> float:
    environment = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
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
    start_time_ms(OURS)  # the first run fills the OS file cache; both sides get it after that
    ours, bare = [], []
    for _ in range(starts):  # interleaved, so a busy neighbour hits both sides alike
        ours.append(start_time_ms(OURS))
        bare.append(start_time_ms(BARE))
    result = {"ours_p50_ms": round(statistics.median(ours), 1), "ours_max_ms": round(max(ours), 1),
              "baseline_p50_ms": round(statistics.median(bare), 1), "baseline_max_ms": round(max(bare), 1),
              "n": starts, "target": "ratio <= 2"}
    result["ratio_p50"] = round(result["ours_p50_ms"] / result["baseline_p50_ms"], 2)
    return result


def table(results: dict[str, Any]) -> str:
    lines = [f"{'benchmark':<22} figure"]
    for name, value in results.items():
        lines.append(f"{name:<22} {json.dumps(value)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=7)
    parser.add_argument("--view-runs", type=int, default=40)
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)
    results: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    results["6_cold_start"] = bench_cold_start(args.starts)
    print("6 cold start:", json.dumps(results["6_cold_start"]), flush=True)
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
