"""The app's log file rotates by size, keeps a fixed number of old files, loses no record on the
way and is readable by the user alone, old files included."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from calendar_app.logging_setup import SizeRotatingFileHandler


@pytest.fixture
def logger_to(tmp_path: Path) -> Iterator[tuple[logging.Logger, SizeRotatingFileHandler, Path]]:
    path = tmp_path / "logs" / "app.log"
    path.parent.mkdir()
    handler = SizeRotatingFileHandler(path, max_bytes=1_000, backups=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"rotation-test-{tmp_path.name}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler, path
    logger.removeHandler(handler)
    handler.close()


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_no_record_is_lost_while_the_backups_have_room(logger_to: tuple[logging.Logger, SizeRotatingFileHandler,
                                                                           Path]) -> None:
    logger, _, path = logger_to
    for number in range(120):  # 120 × 25 bytes: three rotations
        logger.info("record %04d %s", number, "x" * 12)
    files = [Path(f"{path}.3"), Path(f"{path}.2"), Path(f"{path}.1"), path]
    assert all(file.exists() for file in files)
    written = [line for file in files for line in lines_of(file)]
    assert written == [f"record {number:04d} {'x' * 12}" for number in range(120)]
    for old in files[:-1]:
        assert 1_000 <= old.stat().st_size < 1_000 + 25  # rolled over at the first record to reach the limit


def test_only_the_newest_backups_are_kept(logger_to: tuple[logging.Logger, SizeRotatingFileHandler, Path]) -> None:
    logger, _, path = logger_to
    for number in range(390):  # 40 records fill a file: 9 rotations
        logger.info("record %04d %s", number, "x" * 12)
    assert sorted(file.name for file in path.parent.iterdir()) == ["app.log", "app.log.1", "app.log.2", "app.log.3"]
    assert lines_of(path)[-1] == f"record 0389 {'x' * 12}"
    oldest_kept = int(lines_of(Path(f"{path}.3"))[0].split()[1])
    assert oldest_kept == 390 - 30 - 3 * 40  # the earlier records went with the older rotations
    assert sum(len(lines_of(file)) for file in path.parent.iterdir()) == 390 - oldest_kept


def test_every_log_file_is_private(logger_to: tuple[logging.Logger, SizeRotatingFileHandler, Path]) -> None:
    logger, _, path = logger_to
    for number in range(100):
        logger.info("record %04d %s", number, "x" * 12)
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_a_file_that_cannot_be_rotated_does_not_stop_the_app(
        logger_to: tuple[logging.Logger, SizeRotatingFileHandler, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    logger, _, path = logger_to

    def refuse(*_args: object) -> None:
        raise PermissionError("read-only folder")

    monkeypatch.setattr(Path, "replace", refuse)
    for number in range(60):
        logger.info("record %04d %s", number, "x" * 12)
    assert "read-only folder" in capsys.readouterr().err  # logging's own report of a failing handler
    assert lines_of(path)[-1] == f"record 0059 {'x' * 12}"  # nothing lost, the file just grew
    monkeypatch.undo()
    logger.info("after the folder is writable again")
    assert lines_of(Path(f"{path}.1"))[-1] == "after the folder is writable again"
    assert len(lines_of(Path(f"{path}.1"))) == 61 and path.stat().st_size == 0  # rotated at the next record
