"""Cancelling: a confirmation naming who gets a cancellation (then `undo_bar` gives a few seconds
to undo before the store, and so Exchange, hears of it). Loaded when a rep first cancels."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from calendar_app.domain import Appointment


def confirmation_text(a: Appointment, *, sync_enabled: bool) -> tuple[str, str]:
    headline = f"Cancel “{a.subject}”?"
    if a.has_attendees:
        people = ", ".join(a.attendees[:8]) + (f" and {len(a.attendees) - 8} more" if len(a.attendees) > 8 else "")
        if sync_enabled:
            return headline, f"A meeting cancellation will be sent to: {people}."
        return headline, (f"It is removed from this calendar. Exchange integration is off, so no cancellation is "
                          f"sent to {people}: let them know yourself.")
    if sync_enabled:
        return headline, "Nobody else is invited: it is removed from your calendar here and in Exchange."
    return headline, "Nobody else is invited: it is removed from this calendar."


class CancelConfirmation(QMessageBox):
    def __init__(self, parent: QWidget | None, a: Appointment, *, sync_enabled: bool) -> None:
        super().__init__(parent)
        self.setObjectName("cancelConfirmation")
        self.setWindowTitle("Cancel appointment")
        self.setIcon(QMessageBox.Icon.Question)
        headline, details = confirmation_text(a, sync_enabled=sync_enabled)
        self.setText(headline)
        self.setInformativeText(details)
        self.confirm_button = self.addButton("Cancel appointment", QMessageBox.ButtonRole.DestructiveRole)
        self.keep_button = self.addButton("Keep it", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep_button)
        self.uuid = a.uuid
