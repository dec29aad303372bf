"""A few appointments in the current user's calendar (XDG paths), so that the CI screenshot of the
installed app shows a calendar with something in it. Run only against throw-away home folders."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calendar_app.domain import new_appointment
from calendar_app.store import AppointmentRepository, Database
from calendar_app.store.app_paths import AppPaths

ZONE = "Europe/Berlin"
APPOINTMENTS = (
    (1, 9, 30, 60, "Demo with Northwind Traders", "Teams"),
    (1, 14, 0, 90, "Quarterly review – Müller & Söhne", "Room 4.12"),
    (2, 11, 0, 30, "Call back Contoso about the renewal", ""),
    (4, 16, 0, 60, "Pipeline meeting", "Room 2.01"),
)


def main() -> None:
    database = Database.open(AppPaths.for_current_user().database_file)
    repository = AppointmentRepository(database)
    today = datetime.now(ZoneInfo(ZONE)).replace(hour=0, minute=0, second=0, microsecond=0)
    for days, hour, minute, minutes, subject, location in APPOINTMENTS:
        start = today + timedelta(days=days, hours=hour, minutes=minute)
        repository.add(new_appointment(subject=subject, start=start, end=start + timedelta(minutes=minutes),
                                       timezone=ZONE, location=location))
    database.close()
    print(f"screenshot-data: {len(APPOINTMENTS)} appointments in {database.path}")


if __name__ == "__main__":
    main()
