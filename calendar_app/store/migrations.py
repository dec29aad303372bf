"""Schema versions, applied in order and recorded in SQLite's `user_version`.

Never edit a migration that has shipped: add the next one. Each runs in one transaction, so a
crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: appointments, their per-item sync status and the durable outbox
    """
    CREATE TABLE appointments (
        uuid TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        location TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        start_local TEXT NOT NULL,
        end_local TEXT NOT NULL,
        timezone TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        is_all_day INTEGER NOT NULL DEFAULT 0,
        required_attendees TEXT NOT NULL DEFAULT '[]',
        optional_attendees TEXT NOT NULL DEFAULT '[]',
        reminder_minutes INTEGER,
        free_busy TEXT NOT NULL DEFAULT 'Busy',
        is_private INTEGER NOT NULL DEFAULT 0,
        categories TEXT NOT NULL DEFAULT '[]',
        is_cancelled INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX appointments_by_start ON appointments (start_utc);
    CREATE TABLE sync_status (
        uuid TEXT PRIMARY KEY REFERENCES appointments (uuid) ON DELETE CASCADE,
        item_id TEXT UNIQUE,
        change_key TEXT,
        snapshot TEXT,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('synced', 'pending', 'failed', 'conflict')),
        last_error TEXT,
        synced_at TEXT
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'cancel')),
        changed_fields TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before TEXT,
        outcome_unknown INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX outbox_by_uuid ON outbox (uuid, id);
    """,
    # 2: where incremental pull resumes, and same-field conflicts awaiting the rep
    """
    CREATE TABLE folder_sync_state (
        folder TEXT PRIMARY KEY,
        sync_state TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL REFERENCES appointments (uuid) ON DELETE CASCADE,
        field TEXT NOT NULL,
        base_value TEXT,
        local_value TEXT,
        remote_value TEXT,
        detected_at TEXT NOT NULL,
        UNIQUE (uuid, field)
    );
    CREATE INDEX sync_status_by_state ON sync_status (state);
    """,
    # 3: items we created that no pull has reported yet, and what an update in flight carried.
    # Exchange's incremental sync does not tell
    # a client about an item created and deleted between two of its pulls, so such an item must be
    # checked directly or it would linger here after someone deleted it in Outlook.
    """
    ALTER TABLE sync_status ADD COLUMN awaiting_pull INTEGER NOT NULL DEFAULT 0;
    -- the version an update in flight carried: if its answer is lost, the server holding these
    -- values is our own doing, not someone else's edit to merge against
    ALTER TABLE outbox ADD COLUMN sent_version TEXT;
    """,
)

LATEST_VERSION = len(MIGRATIONS)
