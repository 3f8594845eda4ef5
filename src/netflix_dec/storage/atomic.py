"""Atomic writes: a file is replaced whole or not at all, and killed writes are swept.

Every save of the project goes through :func:`atomic_target` (the Kedro
datasets, the caches' shards and entries, the run ledger's records). A process
killed outright cannot clean up after itself, so its temporary file carries
its process id, and :func:`remove_orphans` (the one sweep, for one file's
leftovers or a whole folder's) removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path next to ``path`` that replaces it only if the body succeeds.

    The temporary file lives in the same folder, so that ``os.replace`` is a
    rename within one filesystem: readers see the old file or the new one,
    never a half-written one. Whatever the body raises (a full disk, a
    serialisation error, ``KeyboardInterrupt``), the temporary file is removed
    and ``path`` is left as it was. A process killed outright cannot clean up,
    so its temporary file carries its process id, and the next save of the same
    file removes those whose process is gone.

    Yields:
        The temporary path to write; it keeps ``path``'s suffix, because some
        writers pick the format from it.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(final.parent, final.stem, final.suffix)
    temporary = final.with_name(
        f".{final.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{final.suffix}"
    )
    try:
        yield temporary
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def remove_orphans(folder: Path, stem: str = "*", suffix: str = "") -> None:
    """Remove temporary files (:func:`atomic_target` names) of killed processes.

    Args:
        folder: Where the temporary files are.
        stem: The target file's stem, or ``*`` for every target in ``folder``
            (a store whose every entry has a name of its own).
        suffix: The target files' suffix (``.npz``), or empty for any.
    """
    for orphan in folder.glob(f".{stem}.*-*.tmp{suffix}"):
        pid = _writer_pid(orphan.name)
        if pid is not None and not _alive(pid):
            with contextlib.suppress(FileNotFoundError):
                orphan.unlink()


def _writer_pid(name: str) -> int | None:
    """The process id in ``.<stem>.<pid>-<random>.tmp<suffix>`` (None: not one)."""
    head = name[1:].rsplit(".tmp", 1)[0]
    pid = head.rpartition(".")[2].split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
