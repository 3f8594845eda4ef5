"""A run is one transaction: one run at a time, and its outputs count together.

Every file the project writes is saved atomically (datasets.py), but a run
writes many files: a run killed between its ``dec_model`` and its
``dec_calibration`` saves, or two runs started at once, would leave files of
different runs side by side, each whole, none of them matching. Two things
make a run all-or-nothing:

* **One run at a time per project folder.** A run takes a lock file
  (``.kedro_runs/run.lock``, with :mod:`filelock`) before any check or node; a
  second run stops at once, naming the run that holds it.
* **A ledger of runs.** Each run writes a record, ``.kedro_runs/<run id>.json``:
  ``running`` when it starts, then, as its last step, ``complete`` with the
  version of every versioned dataset it saved and a stamp (size, modification
  time) of every other file it wrote. A versioned dataset of the project
  (``AtomicDataset``, ``NumpyDataset``) resolves "latest" to the newest version
  saved by a complete run (or by no recorded run at all, such as a save from a
  notebook), so a killed or failed run's versions are invisible to every later
  pipeline, the notebook and ``--load-versions``. Unversioned files carry their
  run through the stamps: a run refuses an input that a run which did not
  complete wrote.

The run id is Kedro's session id, which is also the save version of every
versioned dataset in the run. The ledger and the lock themselves are
:mod:`netflix_dec.storage.ledger`; here are the Kedro hooks that take the lock
and write the run's record.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import Any, Literal

from kedro.framework.hooks import hook_impl

from netflix_dec.datasets import AtomicDataset, NumpyDataset
from netflix_dec.storage.ledger import (
    LEDGER_DIR,
    FileStamp,
    IncompleteRunError,
    Ledger,
    RunLock,
    RunRecord,
    close_killed_runs,
    finish,
    new_record,
    stamp,
    unaccounted_writer,
)

logger = logging.getLogger(__name__)


# ---- Kedro hooks --------------------------------------------------------------


class RunTransactionHooks:
    """Lock the project for the run, record it, and count its outputs together.

    ``before_pipeline_run`` runs first of all hooks (``tryfirst``) and
    ``after_pipeline_run`` last (``trylast``), so the lock covers every check
    and every save, and the run is complete only once every other hook's
    after-run step (tracking, timings) has finished.
    """

    def __init__(self) -> None:
        self._lock: RunLock | None = None
        self._ledger: Ledger | None = None
        self._record: RunRecord | None = None

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        # A run of this process that stopped before its pipeline started (a
        # check raised) never reached after_pipeline_run or on_pipeline_error.
        self._end("failed")
        folder = Path(run_params.get("project_path") or Path.cwd()) / LEDGER_DIR
        folder.mkdir(parents=True, exist_ok=True)
        record = new_record(str(run_params.get("run_id") or run_params["session_id"]))
        lock = RunLock(folder)
        lock.acquire(record)
        self._lock, self._ledger, self._record = lock, Ledger(folder), record
        # A later hook's check that stops the run reaches neither
        # after_pipeline_run nor on_pipeline_error: the record is closed as
        # the process exits (a kill is closed by the next run).
        atexit.register(self._end, "failed")
        try:
            self._ledger.write(record)
            close_killed_runs(self._ledger, record.run_id)
            check_inputs_complete(pipeline, catalog, self._ledger)
        except BaseException:
            self._end("failed")
            raise
        logger.info("Run %s holds %s.", record.run_id, lock.path)

    @hook_impl(trylast=True)
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        if self._record is None or self._ledger is None:
            return
        versions, files = outputs_of_run(pipeline, catalog, self._record.run_id)
        self._record = self._record.model_copy(
            update={"versions": versions, "files": files}
        )
        self._end("complete")

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._end("failed")

    def _end(self, state: Literal["complete", "failed"]) -> None:
        try:
            if self._record is not None and self._ledger is not None:
                self._ledger.write(finish(self._record, state))
                if state == "complete":
                    logger.info(
                        "Run %s complete: %d versioned output(s) are now the latest.",
                        self._record.run_id,
                        len(self._record.versions),
                    )
        finally:
            if self._lock is not None:
                self._lock.release()
            self._lock = self._ledger = self._record = None
            atexit.unregister(self._end)


def _project_datasets(catalog: Any, names: set[str]) -> dict[str, Any]:
    found = {}
    for name in sorted(names):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        if isinstance(dataset, AtomicDataset | NumpyDataset):
            found[name] = dataset
    return found


def outputs_of_run(
    pipeline: Any, catalog: Any, run_id: str
) -> tuple[dict[str, str], dict[str, FileStamp]]:
    """The versions and file stamps of the project datasets ``run_id`` wrote."""
    versions: dict[str, str] = {}
    files: dict[str, FileStamp] = {}
    for name, dataset in _project_datasets(catalog, pipeline.all_outputs()).items():
        if dataset.is_versioned:
            if dataset.has_version(run_id):
                versions[name] = run_id
            continue
        path = dataset.local_path
        if path is not None and (current := stamp(name, path)) is not None:
            files[name] = current
    return versions, files


def check_inputs_complete(pipeline: Any, catalog: Any, ledger: Ledger) -> None:
    """Refuse inputs written by a run that did not complete, naming each file.

    Versioned inputs need no check (their "latest" is a complete run's); an
    unversioned one (``clusters.csv``, ``points.json``) is refused when a run
    that was killed or failed wrote it, since that run's other outputs, which
    it belongs with, were never made the latest.
    """
    problems = []
    for name, dataset in _project_datasets(catalog, pipeline.inputs()).items():
        if dataset.is_versioned or (path := dataset.local_path) is None:
            continue
        current = stamp(name, path)
        if current is None:
            continue
        writer = unaccounted_writer(ledger, name, current)
        if writer is not None:
            problems.append(
                f"  {name} ({path}) was written by run {writer.run_id} (started "
                f"{writer.started}, {writer.command or 'no command recorded'}), which "
                f"{'failed' if writer.state == 'failed' else 'did not complete'}"
            )
    if problems:
        raise IncompleteRunError(
            "This run's inputs include files of a run that did not complete, so "
            "they do not match the outputs they go with:\n"
            + "\n".join(problems)
            + "\nRe-run the pipelines that make them (`kedro run` makes all)."
        )
