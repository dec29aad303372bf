"""Plain data and rules: no I/O, no third-party imports."""

from calendar_app.domain.appointment import (
    Appointment,
    FreeBusy,
    new_appointment,
)
from calendar_app.domain.errors import ValidationError, ValidationProblem

__all__ = ["Appointment", "FreeBusy", "ValidationError", "ValidationProblem", "new_appointment"]
