"""The run ledger and the run lock: which runs completed, and which one runs now.

A ledger of runs is a folder (``.kedro_runs`` in the project folder) of one
record per run, ``<run id>.json``: ``running`` when it starts, then, as its
last step, ``complete`` (or ``failed``) with the version of every versioned
dataset it saved and a stamp (size, modification time) of every other file it
wrote. The lock (``run.lock``, with :mod:`filelock`) lets one run at a time
use a project folder. No Kedro here: the versioned datasets read the ledger
(:mod:`netflix_dec.storage.versions`) and the run's hooks write it
(:mod:`netflix_dec.transaction`).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netflix_dec.storage.atomic import atomic_target

logger = logging.getLogger(__name__)

LEDGER_DIR = ".kedro_runs"
"""Folder of the ledger and the lock, in the project folder."""
LOCK_FILE = "run.lock"
HOLDER_FILE = "holder.json"


class RunLockedError(RuntimeError):
    """Another run of the same project folder is running."""


class IncompleteRunError(RuntimeError):
    """An input was written by a run that did not complete."""


class FileStamp(BaseModel):
    """What a file looked like when its run completed: size and modification time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    size: int = Field(ge=0)
    mtime_ns: int = Field(ge=0)
    digest: str | None = None
    """Of the content, when its run completed (:mod:`netflix_dec.storage.lineage`)."""

    def same_file(self, other: FileStamp) -> bool:
        """Whether both stamps are of one file as it was: path, size and time."""
        return (self.path, self.size, self.mtime_ns) == (
            other.path,
            other.size,
            other.mtime_ns,
        )


class RunRecord(BaseModel):
    """One run in the ledger (``.kedro_runs/<run_id>.json``)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1)
    state: Literal["running", "complete", "failed"]
    pid: int
    host: str
    user: str = ""
    command: str = ""
    started: str
    started_ns: int = Field(ge=0)
    finished: str | None = None
    finished_ns: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    files: dict[str, FileStamp] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)
    """What each project input was when the run started (``version <id>`` or
    ``content <digest>``), so that what it made can be checked against it later."""


def stamp(name: str, path: Path) -> FileStamp | None:
    """The stamp of ``path`` as it is now, or None when it does not exist."""
    try:
        status = path.stat()
    except OSError:
        return None
    return FileStamp(path=str(path), size=status.st_size, mtime_ns=status.st_mtime_ns)


def find_ledger(path: str | os.PathLike[str]) -> Path | None:
    """The ledger of the project ``path`` lies in, or None outside any project that ran.

    Looked up from the file upwards, so any process that loads a dataset (a
    Dask worker, a notebook, the ``assign`` pipeline) finds the same ledger
    without being told where the project is.
    """
    current = Path(path).absolute()
    for folder in (current, *current.parents):
        candidate = folder / LEDGER_DIR
        if candidate.is_dir():
            return candidate
    return None


class Ledger:
    """The run records of one project folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def record_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def read(self, run_id: str) -> RunRecord | None:
        """The record of ``run_id``; None when no run of that id was recorded.

        A record that cannot be read or does not fit :class:`RunRecord` counts
        as a run that did not complete (its versions stay invisible), with a
        warning naming the file.
        """
        path = self.record_path(run_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("Run ledger: cannot read %s (%s).", path, error)
            return _unreadable(run_id)
        try:
            return RunRecord.model_validate_json(text)
        except ValidationError as error:
            logger.warning(
                "Run ledger: %s is not a valid run record, so its run counts as "
                "not complete (%s).",
                path,
                error.errors()[0].get("msg"),
            )
            return _unreadable(run_id)

    def write(self, record: RunRecord) -> None:
        """Write ``record`` atomically (a kill leaves the previous one whole)."""
        with atomic_target(self.record_path(record.run_id)) as temporary:
            temporary.write_text(record.model_dump_json(indent=2), encoding="utf-8")

    def records(self) -> list[RunRecord]:
        """Every readable record, oldest first."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            if path.name == HOLDER_FILE or path.name.startswith("."):
                continue
            record = self.read(path.stem)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda record: record.started_ns)

    def visible(self, version: str, own_save_version: str | None = None) -> bool:
        """Whether a dataset's ``version`` may be loaded as "latest".

        Visible: versions of complete runs, versions no run recorded (saved
        outside ``kedro run``), and the versions of the run that is loading
        (its own save version, in the client and on Dask workers alike).
        """
        if version == own_save_version:
            return True
        record = self.read(version)
        return record is None or record.state == "complete"

    def incomplete(self, version: str) -> RunRecord | None:
        """The record of ``version`` when its run did not complete, else None."""
        record = self.read(version)
        if record is None or record.state == "complete":
            return None
        return record


def _unreadable(run_id: str) -> RunRecord:
    return RunRecord(
        run_id=run_id, state="failed", pid=0, host="", started="", started_ns=0
    )


def latest_visible(
    versions: list[str], ledger: Ledger, own_save_version: str | None
) -> str | None:
    """The newest of ``versions`` (Kedro's names sort by time) the ledger shows."""
    for version in sorted(versions, reverse=True):
        if ledger.visible(version, own_save_version):
            return version
    return None


def _now() -> tuple[str, int]:
    moment = time.time_ns()
    text = datetime.fromtimestamp(moment / 1e9, tz=timezone.utc).isoformat(
        timespec="seconds"
    )
    return text, moment


def new_record(run_id: str) -> RunRecord:
    """The ``running`` record of this process's run ``run_id``."""
    started, started_ns = _now()
    with contextlib.suppress(Exception):
        user = getpass.getuser()
    return RunRecord(
        run_id=run_id,
        state="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        user=locals().get("user", ""),
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:500],
        started=started,
        started_ns=started_ns,
    )


def finish(record: RunRecord, state: Literal["complete", "failed"]) -> RunRecord:
    finished, finished_ns = _now()
    return record.model_copy(
        update={"state": state, "finished": finished, "finished_ns": finished_ns}
    )


LOCK_WAIT_VAR = "NETFLIX_DEC_RUN_LOCK_WAIT"
"""Seconds a run waits for the lock another run holds (unset or 0: none)."""


def lock_wait(environ: Mapping[str, str]) -> float:
    """How long a run waits for the run lock, from ``NETFLIX_DEC_RUN_LOCK_WAIT``.

    Unset, a run stops at once when another holds the lock (a person at a
    terminal learns at once). An orchestrator that starts several tasks of
    one project side by side (Airflow's tasks of one DAG run) sets it, so
    that each task waits its turn instead of failing.

    Raises:
        ValueError: The variable is not a number of seconds, 0 or more.
    """
    value = environ.get(LOCK_WAIT_VAR, "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(
            f"{LOCK_WAIT_VAR}={value!r}: expected the seconds a run may wait for "
            "the run lock, a number 0 or more (0: do not wait)."
        )
    return seconds


class RunLock:
    """The project's run lock: one run at a time per project folder.

    ``filelock`` holds an OS lock on ``run.lock`` (``flock``), which the system
    releases when the process ends, however it ends; ``holder.json`` says who
    holds it, for the message a second run gives.
    """

    def __init__(self, ledger: Path) -> None:
        from filelock import FileLock  # noqa: PLC0415  (only runs need it)

        self.folder = ledger
        self.path = ledger / LOCK_FILE
        self._lock = FileLock(self.path, timeout=0)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, record: RunRecord, wait: float = 0.0) -> RunRecord:
        """Take the lock for ``record``'s run, waiting at most ``wait`` seconds.

        Returns:
            ``record``, started now: a run starts when it holds the lock. The
            time it waited is not its own, and files the holder wrote in that
            time must not look like this run's (:func:`unaccounted_writer`
            finds a file's writer by the runs' times).

        Raises:
            RunLockedError: Another run held the lock for all of ``wait`` (0:
                at once), naming that run.
        """
        from filelock import Timeout  # noqa: PLC0415

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if wait <= 0:
                raise RunLockedError(self._held_message()) from None
            logger.info(
                "Waiting up to %g s for the run that holds %s: %s",
                wait,
                self.path,
                self._holder(),
            )
            try:
                self._lock.acquire(timeout=wait)
            except Timeout:
                raise RunLockedError(
                    f"Waited {wait:g} s. {self._held_message()}"
                ) from None
        started, started_ns = _now()
        record = record.model_copy(
            update={"started": started, "started_ns": started_ns}
        )
        holder = self.folder / HOLDER_FILE
        with atomic_target(holder) as temporary:
            temporary.write_text(
                record.model_dump_json(include=_HOLDER_FIELDS), encoding="utf-8"
            )
        return record

    def release(self) -> None:
        if self._lock.is_locked:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / HOLDER_FILE).unlink()
            self._lock.release(force=True)

    def _holder(self) -> str:
        """Who holds the lock, as ``holder.json`` says."""
        try:
            holder = json.loads((self.folder / HOLDER_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            holder = {}
        return (
            f"run {holder.get('run_id', '?')} (process {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, started {holder.get('started', '?')}, "
            f"command: {holder.get('command') or '?'})"
            if holder
            else "another process"
        )

    def _held_message(self) -> str:
        return (
            f"Another run of this project is running: {self._holder()} holds {self.path}. "
            "Only one run at a time may write a project's outputs. Wait for it to "
            "finish (or stop it), or let a run wait its turn: "
            f"{LOCK_WAIT_VAR}=<seconds>. The system frees the lock when that process ends; "
            "if no such process runs any more and the lock stays taken, a leftover "
            "child process (a Dask worker) still holds it: stop it, or delete "
            f"{self.path} and {self.folder / HOLDER_FILE}."
        )


_HOLDER_FIELDS = {"run_id", "pid", "host", "user", "command", "started"}


def close_killed_runs(ledger: Ledger, own_run_id: str) -> None:
    """Mark ``running`` records of other runs as failed, ending now.

    Called with the lock held: no other run is running, so such a run was
    killed. Its end is not known, only that it is over by now, which bounds
    the files it may have written (:func:`unaccounted_writer`).
    """
    for record in ledger.records():
        if record.state == "running" and record.run_id != own_run_id:
            logger.warning(
                "Run %s (started %s, %s) was killed: none of its outputs are used.",
                record.run_id,
                record.started,
                record.command or "no command recorded",
            )
            ledger.write(finish(record, "failed"))


def unaccounted_writer(
    ledger: Ledger, name: str, current: FileStamp
) -> RunRecord | None:
    """The run that did not complete and may have written ``current``, if any.

    A file whose stamp a complete run recorded is accounted for. Otherwise it
    changed after the last complete run that wrote it: when a run that did
    not complete was running at that moment, that run wrote it (its other
    outputs are not there to match it). Files older than every incomplete run
    (a project from before the ledger, a hand-made input) pass.
    """
    records = ledger.records()
    for record in records:
        recorded = record.files.get(name)
        if record.state == "complete" and recorded and recorded.same_file(current):
            return None
    for record in reversed(records):
        if record.state == "complete":
            continue
        ends = record.finished_ns if record.finished_ns is not None else None
        if current.mtime_ns >= record.started_ns and (
            ends is None or current.mtime_ns <= ends + 10**9
        ):
            return record
    return None
