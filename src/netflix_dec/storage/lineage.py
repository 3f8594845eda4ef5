"""Which run made each input, and whether the inputs of a run were made together.

A run's unversioned inputs (``clusters.csv``, ``points.json``) and its loaded
versions come from earlier runs. Each complete run's ledger record
(:mod:`netflix_dec.storage.ledger`) says what it wrote (a version, or a file's
stamp and content digest) and what it read. That is each file's run id,
carried beside it in the ledger: its stamp names the complete run that wrote
it. So an input made from another file can be checked against that file as it
is now: ``cluster_summary`` made by run A from run A's ``clusters``, next to a
``clusters.csv`` that a later ``kedro run --nodes train_dec,assign_clusters``
rewrote, is a summary of other clusters, whatever the row counts say.

Inputs are compared by what they are, not by who wrote them: a version by its
id, a file by a digest of its content, so re-running ``data_processing`` on an
unchanged catalogue (same bytes, new file) does not void what was made from
it. No Kedro here: :mod:`netflix_dec.transaction` gives the pipeline's
dataset graph and the catalogue's files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from netflix_dec.storage.ledger import FileStamp, RunRecord

VERSION = "version "
CONTENT = "content "


class StaleInputError(RuntimeError):
    """An input was made from another version of a file the run also reads."""


def digest(path: Path) -> str:
    """A digest of the file's content (BLAKE2b, 128 bits), read in 1 MB blocks."""
    hasher = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


def sources(made_from: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Every dataset each dataset is made from, directly or through others.

    Args:
        made_from: For each dataset a node outputs, the datasets that node
            reads (and, when it should count as made with them, its other
            outputs).

    Returns:
        For each dataset, the transitive closure of ``made_from``.
    """
    direct = {name: set(inputs) for name, inputs in made_from.items()}
    closed: dict[str, set[str]] = {}
    for name, inputs in direct.items():
        seen: set[str] = set()
        todo = list(inputs)
        while todo:
            source = todo.pop()
            if source in seen or source == name:
                continue
            seen.add(source)
            todo.extend(direct.get(source, ()))
        closed[name] = seen
    return closed


@dataclass(frozen=True)
class Input:
    """What one input of a run is now, and the complete run that made it."""

    name: str
    what: str
    """``version <id>`` or ``content <digest>``."""
    made_by: RunRecord | None
    """The complete run that wrote it; None when no recorded run did."""
    where: str


def versioned_input(
    name: str, version: str, records: Iterable[RunRecord], where: str
) -> Input:
    """A versioned input: its version is its identity and its run id.

    Args:
        name: The dataset.
        version: The version the run loads.
        records: The ledger's records (:meth:`Ledger.records`), read once per run.
        where: The version's file, for messages.
    """
    made_by = next(
        (r for r in records if r.run_id == version and r.state == "complete"), None
    )
    return Input(name, VERSION + version, made_by, where)


def file_input(
    name: str, current: FileStamp, records: Iterable[RunRecord]
) -> Input | None:
    """An unversioned input as the complete run that wrote it recorded it.

    Args:
        name: The dataset.
        current: The file's stamp now.
        records: The ledger's records, oldest first (:meth:`Ledger.records`).

    Returns:
        None when no complete run recorded this very file (size and
        modification time): a hand-made input, or one from before the ledger
        kept digests.
    """
    for record in reversed(list(records)):
        recorded = record.files.get(name)
        if (
            record.state == "complete"
            and recorded is not None
            and recorded.digest is not None
            and recorded.same_file(current)
        ):
            return Input(name, CONTENT + recorded.digest, record, current.path)
    return None


def made_with(record: RunRecord, name: str) -> str | None:
    """What ``name`` was when ``record``'s run used it: written or read by it."""
    if name in record.versions:
        return VERSION + record.versions[name]
    written = record.files.get(name)
    if written is not None:
        return CONTENT + written.digest if written.digest is not None else None
    return record.inputs.get(name)


def stale_inputs(
    inputs: Mapping[str, Input], made_from: Mapping[str, set[str]]
) -> list[str]:
    """Each input made from another version of an input the run also reads.

    Args:
        inputs: The run's inputs by name, as they are now.
        made_from: Every dataset each dataset is made from (:func:`sources`).

    Returns:
        One line per such pair, naming both files, both runs and what changed.
    """
    problems = []
    for name, made in inputs.items():
        if made.made_by is None:
            continue
        for source in sorted(made_from.get(name, set()) & inputs.keys()):
            then = made_with(made.made_by, source)
            now = inputs[source]
            if then is None or then == now.what:
                continue
            by = now.made_by.run_id if now.made_by is not None else "no recorded run"
            problems.append(
                f"  {name} ({made.where}) was made by run {made.made_by.run_id} from "
                f"another {source} than the one there now ({now.where}, "
                f"{_what(now.what)}, made by {by})"
            )
    return problems


def _what(identity: str) -> str:
    if identity.startswith(VERSION):
        return f"version {identity.removeprefix(VERSION)}"
    return f"content {identity.removeprefix(CONTENT)[:12]}…"
