"""The user data of the upgrade test: a rep's appointment, settings and keyring entry.

    python packaging/linux/upgrade_data.py seed   MANIFEST   (after the older version ran once)
    python packaging/linux/upgrade_data.py verify MANIFEST   (after the newer one ran over it)

Uses the app's own store and secret-store code on the per-user paths (XDG_*), exactly where the
installed app keeps them. `verify` exits 1, saying what is missing, if anything was lost.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calendar_app.domain import new_appointment
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, SecretStore
from calendar_app.store import AppointmentNotFoundError, AppointmentRepository, Database
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings, load_settings, save_settings

SUBJECT = "Quarterly review with Northwind (upgrade test)"
EWS_URL = "https://mail.example.com/ews/Exchange.asmx"
SECRET = "upgrade-test-password-7f3a"  # noqa: S105 - a throw-away value in a throw-away keyring


def seed(manifest: Path) -> int:
    paths = AppPaths.for_current_user()
    if not paths.database_file.is_file():
        print(f"upgrade-data: the older version did not create {paths.database_file}", file=sys.stderr)
        return 1
    database = Database.open(paths.database_file)
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=2)
    appointment = new_appointment(subject=SUBJECT, start=start, end=start + timedelta(hours=1),
                                  timezone="Europe/Berlin", location="Room 4.12")
    AppointmentRepository(database).add(appointment)
    database.close()
    save_settings(paths.settings_file, Settings(ews_url=EWS_URL, mailbox="rep@example.com"))
    SecretStore().set(EXCHANGE_PASSWORD, SECRET)
    manifest.write_text(json.dumps({"uuid": appointment.uuid, "start": start.isoformat()}), encoding="utf-8")
    print(f"upgrade-data: seeded appointment {appointment.uuid}, settings and a keyring entry")
    return 0


def verify(manifest: Path) -> int:
    expected = json.loads(manifest.read_text(encoding="utf-8"))
    paths = AppPaths.for_current_user()
    problems = []
    database = Database.open(paths.database_file)
    try:
        stored = AppointmentRepository(database).get(expected["uuid"]).appointment
        if stored.subject != SUBJECT or stored.start != datetime.fromisoformat(expected["start"]):
            problems.append(f"the appointment changed: {stored.subject!r} at {stored.start}")
    except AppointmentNotFoundError:
        problems.append(f"the appointment {expected['uuid']} is gone from {paths.database_file}")
    finally:
        database.close()
    settings = load_settings(paths.settings_file).settings
    if settings.ews_url != EWS_URL:
        problems.append(f"the settings lost the Exchange URL (now {settings.ews_url!r})")
    if SecretStore().get(EXCHANGE_PASSWORD) != SECRET:
        problems.append("the Exchange password is gone from the keyring")
    for problem in problems:
        print(f"upgrade-data: FAIL: {problem}", file=sys.stderr)
    if not problems:
        print("upgrade-data: the appointment, the settings and the keyring entry survived the upgrade")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"seed", "verify"}:
        print("usage: upgrade_data.py seed|verify MANIFEST", file=sys.stderr)
        sys.exit(2)
    action = seed if sys.argv[1] == "seed" else verify
    sys.exit(action(Path(sys.argv[2])))
