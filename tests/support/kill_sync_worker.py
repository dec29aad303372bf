"""The process the kill test kills: syncs one local calendar with the sandbox until converged.

    python -m tests.support.kill_sync_worker CONFIG.json

CONFIG holds the database path, the sandbox URL, the CA file to trust and the sign-in. Exits 0 once
a run converges, 3 when it gives up after many runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cryptography import x509

from calendar_app.exchange.account_factory import make_account
from calendar_app.exchange.connection_settings import ConnectionSettings, SignInMode
from calendar_app.exchange.exchange_calendar import ExchangeCalendar
from calendar_app.security.pinned_transport import PinnedTlsAdapter
from calendar_app.store import Database
from calendar_app.sync.engine import SyncEngine

ZONE = "Europe/Berlin"


def main(config_file: str) -> int:
    config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    trusted = [x509.load_pem_x509_certificate(Path(config["ca_file"]).read_bytes())]
    settings = ConnectionSettings(ews_url=config["url"], mailbox=config["mailbox"], username=config["user"],
                                  sign_in_mode=SignInMode(config["mode"]), timeout_seconds=10.0)
    account = make_account(settings, config["password"], lambda: PinnedTlsAdapter(trusted), timezone=ZONE)
    database = Database.open(Path(config["database"]))
    engine = SyncEngine(database, ExchangeCalendar(account, local_zone=ZONE), retry_base_seconds=0.05)
    for _ in range(50):
        report = engine.run_once()
        if report.converged:
            return 0
        if report.fatal_error:
            print(report.fatal_error, file=sys.stderr)
            return 2
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
