"""Short jobs (certificate capture, connection test) on a thread pool, reporting back by signal.

A job runs a plain function on a pool thread. Its `JobSignals` object lives in the GUI thread, so
every signal it emits from the pool thread arrives queued on the GUI thread. A cancelled job is
told through a threading.Event; its later results are dropped by the page (generation check).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

log = logging.getLogger(__name__)


class JobSignals(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    done = Signal()


class BackgroundJob(QRunnable):
    """Runs `work(cancel)`; a generator's items are sent as `progress`, its return/plain result as `succeeded`."""

    def __init__(self, work: Callable[[threading.Event], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the page keeps a reference until `done`
        self.signals = JobSignals()
        self.cancel = threading.Event()
        self._work = work

    def run(self) -> None:
        try:
            result = self._work(self.cancel)
            if isinstance(result, Iterator):
                for item in result:
                    self.signals.progress.emit(item)
                    if self.cancel.is_set():
                        break
                result = None
            self.signals.succeeded.emit(result)
        except Exception as error:
            log.info("background job failed: %s", error)
            self.signals.failed.emit(error)
        finally:
            self.signals.done.emit()


def shared_pool() -> QThreadPool:
    pool = QThreadPool.globalInstance()
    return pool


class BusyIndicator(QWidget):
    """A spinner (an endless progress bar), what is happening, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        self.label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.cancel_button.setEnabled(True)
        self.show()

    def stop(self) -> None:
        self.hide()
