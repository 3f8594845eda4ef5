"""A run is one transaction: one run at a time, and its outputs count together.

Every file the project writes is saved atomically (datasets.py), but a run
writes many files: a run killed between its ``dec_model`` and its
``dec_calibration`` saves, or two runs started at once, would leave files of
different runs side by side, each whole, none of them matching. Two things
make a run all-or-nothing, and one more makes its inputs match:

* **One run at a time per project folder.** A run takes a lock file
  (``.kedro_runs/run.lock``, with :mod:`filelock`) before any check or node; a
  second run stops at once, naming the run that holds it, or waits for it as
  long as ``NETFLIX_DEC_RUN_LOCK_WAIT`` says (seconds).
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
* **Inputs that go together.** A complete run's record also holds what each
  of its inputs was and a digest of each file it wrote, so a run refuses an
  input made from another version of a file it also reads
  (:mod:`netflix_dec.storage.lineage`), however the row counts compare.

The run id is Kedro's session id, which is also the save version of every
versioned dataset in the run. The ledger and the lock themselves are
:mod:`netflix_dec.storage.ledger`; here are the Kedro hooks that take the lock
and write the run's record.
"""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path
from typing import Any, Literal

from kedro.framework.hooks import hook_impl
from kedro.io.core import DatasetError

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
    lock_wait,
    new_record,
    stamp,
    unaccounted_writer,
)
from netflix_dec.storage.lineage import (
    Input,
    StaleInputError,
    digest,
    file_input,
    sources,
    stale_inputs,
    versioned_input,
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
        record = lock.acquire(record, wait=lock_wait(os.environ))
        self._lock, self._ledger, self._record = lock, Ledger(folder), record
        # A later hook's check that stops the run reaches neither
        # after_pipeline_run nor on_pipeline_error: the record is closed as
        # the process exits (a kill is closed by the next run).
        atexit.register(self._end, "failed")
        try:
            self._ledger.write(record)
            close_killed_runs(self._ledger, record.run_id)
            check_inputs_complete(pipeline, catalog, self._ledger)
            inputs = inputs_of_run(pipeline, catalog, self._ledger)
            check_inputs_made_together(inputs)
            self._record = record.model_copy(
                update={"inputs": {name: made.what for name, made in inputs.items()}}
            )
            self._ledger.write(self._record)
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
            files[name] = current.model_copy(update={"digest": digest(path)})
    return versions, files


def inputs_of_run(pipeline: Any, catalog: Any, ledger: Ledger) -> dict[str, Input]:
    """What each project input of the run is now, and which complete run made it.

    A versioned input is the version this run will load (the latest complete
    run's, or the one ``--load-versions`` names); an unversioned one is known
    when a complete run recorded this very file. Inputs no recorded run made
    (a first run, a hand-made file) are left out: nothing to check them by.
    """
    found: dict[str, Input] = {}
    records = ledger.records()
    for name, dataset in _project_datasets(catalog, pipeline.inputs()).items():
        if dataset.is_versioned:
            try:
                version = dataset.resolve_load_version()
            except DatasetError:  # no version yet: the run-start checks say so
                continue
            if version is not None:
                where = str(dataset.version_path(version))
                found[name] = versioned_input(name, version, records, where)
        elif (path := dataset.local_path) is not None and (
            current := stamp(name, path)
        ) is not None:
            if (made := file_input(name, current, records)) is not None:
                found[name] = made
    return found


def check_inputs_made_together(inputs: dict[str, Input]) -> None:
    """Refuse an input that was made from another version of another input.

    Which input is made from which comes from every pipeline of the project
    (a run of ``visualization`` alone still knows that ``cluster_summary`` is
    made from ``clusters``); outputs of one node count as made together, so
    ``assign`` with ``--load-versions`` of an older ``dec_model`` next to the
    latest ``dec_calibration`` is refused too.

    Raises:
        StaleInputError: Naming each such pair of files and their runs.
    """
    if len(inputs) < 2:
        return
    from netflix_dec.run_checks import every_pipeline  # noqa: PLC0415

    made_from: dict[str, set[str]] = {}
    for pipe in every_pipeline().values():
        for item in pipe.nodes:
            # A node's outputs are made from its inputs and together with
            # each other: `dec_calibration` is made from `soft_assignments`,
            # which comes out of one training step with `dec_model`.
            for output in item.outputs:
                made_from.setdefault(output, set()).update(item.inputs, item.outputs)
    problems = stale_inputs(inputs, sources(made_from))
    if problems:
        raise StaleInputError(
            "This run's inputs were not made together: an input was made from "
            "another version of a file this run also reads, so they describe "
            "different clusters or titles:\n"
            + "\n".join(problems)
            + "\nRe-run the pipelines that make them (`kedro run` makes all), or "
            "name matching versions with --load-versions."
        )


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
