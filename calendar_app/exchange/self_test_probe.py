"""Self-test probe for exchangelib: it imports, and it maps an IANA zone to a Windows one and
back (Exchange speaks Windows zone names; the mapping tables must have been shipped)."""

from __future__ import annotations

PROBE_ZONE = "Europe/Berlin"
EXPECTED_WINDOWS_ZONE = "W. Europe Standard Time"


class ExchangeLibraryProbeError(Exception):
    pass


def map_time_zone() -> str:
    import exchangelib
    from exchangelib import EWSTimeZone

    windows_name = EWSTimeZone(PROBE_ZONE).ms_id
    if windows_name != EXPECTED_WINDOWS_ZONE:
        raise ExchangeLibraryProbeError(
            f"{PROBE_ZONE} maps to '{windows_name}', expected '{EXPECTED_WINDOWS_ZONE}'")
    back = EWSTimeZone.from_ms_id(windows_name).key
    if back != PROBE_ZONE:
        raise ExchangeLibraryProbeError(f"'{windows_name}' maps back to {back}, expected {PROBE_ZONE}")
    return f"exchangelib {exchangelib.__version__}: {PROBE_ZONE} ↔ '{windows_name}'"
