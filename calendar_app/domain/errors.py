"""Errors a user can act on, raised by the domain rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationProblem:
    """One thing wrong with user input: which field, and what to do about it."""

    field: str
    message: str


class ValidationError(ValueError):
    """Input that breaks a domain rule. Carries every problem found, not just the first,
    so an editor can mark all the bad fields at once."""

    def __init__(self, problems: list[ValidationProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]
