"""A sync process for the kill test: syncs a local calendar with the served remote calendar until
both agree, then exits 0. The test kills it with SIGKILL at random moments and starts it again.

    python -m tests.support.sync_worker DATABASE PORT AUTHKEY_HEX
"""

from __future__ import annotations

import sys
from pathlib import Path

from calendar_app.store import Database
from calendar_app.sync.engine import SyncEngine
from tests.support.remote_server import RemoteCalendarServer


def main(argv: list[str]) -> int:
    database_file, port, authkey = Path(argv[0]), int(argv[1]), bytes.fromhex(argv[2])
    server = RemoteCalendarServer(address=("127.0.0.1", port), authkey=authkey)
    server.connect()
    remote = server.calendar()  # type: ignore[attr-defined]
    engine = SyncEngine(Database.open(database_file), remote, retry_base_seconds=0.01, page_size=25)
    for _ in range(1000):
        report = engine.run_once()
        if report.fatal_error:
            print(report.summary(), file=sys.stderr)
            return 3
        if report.converged:
            return 0
    print(f"did not converge: {report.summary()}", file=sys.stderr)
    return 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
