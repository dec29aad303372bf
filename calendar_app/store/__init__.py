"""Local persistence: the SQLite calendar database and the settings file."""

from calendar_app.store.appointment_repository import (
    AppointmentNotFoundError,
    AppointmentRepository,
    StoredAppointment,
)
from calendar_app.store.database import DATABASE_FILE_NAME, Database
from calendar_app.store.errors import StoreError
from calendar_app.store.outbox import Outbox, OutboxOperation
from calendar_app.store.sync_records import SyncRecords

__all__ = [
    "DATABASE_FILE_NAME",
    "AppointmentNotFoundError",
    "AppointmentRepository",
    "Database",
    "Outbox",
    "OutboxOperation",
    "StoreError",
    "StoredAppointment",
    "SyncRecords",
]
