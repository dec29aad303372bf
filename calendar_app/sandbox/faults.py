"""Fault injection: make the sandbox fail the way Exchange and its IIS front end fail.

A fault is `KIND[:VALUE][@OPERATION][*TIMES]` on the command line (`--fault busy:5000@CreateItem*2`), or
`server.faults.add(kind, value=..., operation=..., times=...)` from Python. Without `@OPERATION` it applies
to every operation; without `*TIMES` it stays until removed. `drop-after@GetStreamingEvents` breaks a
stream after its first message.

| kind | what the client gets |
|---|---|
| `busy[:MS]` | SOAP fault `ErrorServerBusy` (HTTP 500) with `BackOffMilliseconds` MS (default 5000) |
| `http500` | HTTP 500 with IIS's "Server Error in '/EWS' Application." page |
| `http503[:SECONDS]` | HTTP 503 Service Unavailable, with `Retry-After: SECONDS` when given |
| `drop-before` | the connection closes before the request is carried out: nothing changed |
| `drop-after` | the request is carried out, then the connection closes without an answer: unknown outcome |
| `latency:MS` | every matching answer is delayed by MS milliseconds |
| `changed-certificate` | new connections are served with a different, unrelated certificate chain |
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from calendar_app.sandbox.config import ConfigError

FAULT_KINDS = ("busy", "http500", "http503", "drop-before", "drop-after", "latency", "changed-certificate")
DEFAULT_BACK_OFF_MS = 5000


@dataclass
class Fault:
    kind: str
    value: int = 0
    operation: str | None = None
    remaining: int | None = None  # None: until removed

    def matches(self, operation: str) -> bool:
        return self.operation is None or self.operation.lower() == operation.lower()

    def describe(self) -> str:
        text = self.kind + (f":{self.value}" if self.value else "")
        text += f"@{self.operation}" if self.operation else ""
        return text + (f"*{self.remaining}" if self.remaining is not None else "")


def parse_fault(spec: str) -> Fault:
    text = spec.strip()
    times: int | None = None
    operation: str | None = None
    try:
        if "*" in text:
            text, times_text = text.rsplit("*", 1)
            times = int(times_text)
            if times < 1:
                raise ValueError
        if "@" in text:
            text, operation = text.split("@", 1)
            if not operation.isalpha():
                raise ValueError
        kind, _, value_text = text.partition(":")
        value = int(value_text) if value_text else 0
        if value < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--fault {spec!r}: expected KIND[:VALUE][@OPERATION][*TIMES], e.g. busy:5000@CreateItem*2"
                          ) from None
    if kind not in FAULT_KINDS:
        raise ConfigError(f"--fault {spec!r}: unknown kind {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
    if kind == "busy" and not value:
        value = DEFAULT_BACK_OFF_MS
    if kind == "latency" and not value:
        raise ConfigError(f"--fault {spec!r}: latency needs milliseconds, e.g. latency:200")
    return Fault(kind, value, operation, times)


class FaultInjector:
    """Thread-safe set of active faults; the HTTP handler asks it at each stage of a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.listeners: list[Callable[[], None]] = []  # told after every add/remove/clear

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def add(self, kind: str, *, value: int = 0, operation: str | None = None, times: int | None = None) -> Fault:
        spec = kind + (f":{value}" if value else "") + (f"@{operation}" if operation else "")
        spec += f"*{times}" if times is not None else ""
        return self.add_spec(spec)

    def add_spec(self, spec: str) -> Fault:
        fault = parse_fault(spec)
        with self._lock:
            self._faults.append(fault)
        self._changed()
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)
        self._changed()

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self._changed()

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def has(self, kind: str) -> bool:
        with self._lock:
            return any(fault.kind == kind for fault in self._faults)

    def latency_ms(self, operation: str) -> int:
        with self._lock:
            return sum(fault.value for fault in self._faults if fault.kind == "latency" and fault.matches(operation))

    def take(self, operation: str, kinds: tuple[str, ...]) -> Fault | None:
        """The first active fault of one of `kinds` for this operation, used up by one."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(operation):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None
