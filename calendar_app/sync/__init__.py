"""The sync engine: pure Python over a RemoteCalendar protocol (no Qt, no exchangelib)."""
