"""Validates SOAP traffic against Microsoft's EWS schema (`../shared/ews-schema`).

Every envelope is checked: the header elements (ServerVersionInfo, RequestServerVersion,
ExchangeImpersonation, TimeZoneContext) and the element inside soap:Body against messages.xsd / types.xsd;
a SOAP fault's structure and its ResponseCode against m:ResponseCodeType."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
ERRORS_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
REPO_ROOT = Path(__file__).resolve().parents[2]


def schema_dir() -> Path | None:
    """`$EWS_SCHEMA_DIR`, else `<repo>/../shared/ews-schema` (CI puts shared/ beside the clone)."""
    configured = os.environ.get("EWS_SCHEMA_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT / ".." / "shared" / "ews-schema")
    for candidate in candidates:
        if (candidate / "messages.xsd").is_file():
            return candidate.resolve()
    return None


def samples_dir() -> Path | None:
    """`ews-samples` beside the schema folder (`<repo>/../shared/ews-samples`)."""
    schema = schema_dir()
    if schema is None or not (schema.parent / "ews-samples").is_dir():
        return None
    return schema.parent / "ews-samples"


@dataclass
class Violation:
    direction: str
    operation: str
    problem: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.direction} {self.operation}: {self.problem}\n    {self.excerpt}"


@dataclass
class SchemaChecker:
    schema: Any
    violations: list[Violation] = field(default_factory=list)
    checked: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def problems(self, payload: bytes) -> list[str]:
        try:
            root = etree.fromstring(payload, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as error:
            return [f"not well-formed: {error}"]
        if root.tag != f"{{{SOAP_NS}}}Envelope":
            return [f"root is {root.tag}, not soap:Envelope"]
        problems: list[str] = []
        header = root.find(f"{{{SOAP_NS}}}Header")
        for child in header if header is not None else []:
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{TYPES_NS}}}"):
                problems += [str(e.reason or e) for e in self.schema.iter_errors(child)]
        body = root.find(f"{{{SOAP_NS}}}Body")
        if body is None or len(body) != 1:
            return [*problems, "soap:Body must hold exactly one element"]
        content = body[0]
        if content.tag == f"{{{SOAP_NS}}}Fault":
            problems += self._fault_problems(content)
        else:
            problems += [f"{e.reason or e} (at {e.path})" for e in self.schema.iter_errors(content)]
        return problems

    def _fault_problems(self, fault: Any) -> list[str]:
        code = fault.findtext("faultcode")
        text = fault.findtext("faultstring")
        response_code = fault.findtext(f"detail/{{{ERRORS_NS}}}ResponseCode")
        problems = []
        if not code or not text:
            problems.append("fault without faultcode/faultstring")
        code_type = self.schema.maps.types[f"{{{MESSAGES_NS}}}ResponseCodeType"]
        if response_code is None or not code_type.is_valid(response_code):
            problems.append(f"fault detail ResponseCode {response_code!r} is not an m:ResponseCodeType")
        return problems

    def __call__(self, direction: str, operation: str, payload: bytes) -> None:
        problems = self.problems(payload)
        with self._lock:
            self.checked += 1
            for problem in problems:
                self.violations.append(Violation(direction, operation, problem, payload[:600].decode(errors="replace")))

    def take_violations(self) -> list[Violation]:
        with self._lock:
            found, self.violations = self.violations, []
            return found
