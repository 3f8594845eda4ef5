"""Versioned files that see only complete runs: the run-ledger mixin of the datasets.

:class:`RunVersions` is mixed into :class:`netflix_dec.datasets.AtomicDataset`
and :class:`netflix_dec.datasets.NumpyDataset`; the ledger it reads is
:mod:`netflix_dec.storage.ledger`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    VersionNotFoundError,
    get_filepath_str,
    get_protocol_and_path,
)


def init_versioned_file(
    dataset: AbstractVersionedDataset,
    filepath: str,
    version: Version | None,
    fs_kwargs: dict[str, Any],
) -> None:
    """Give a versioned file dataset its filesystem, protocol and Kedro paths."""
    protocol, path = get_protocol_and_path(filepath, version)
    dataset._protocol = protocol
    dataset._fs = fsspec.filesystem(protocol, **fs_kwargs)
    AbstractVersionedDataset.__init__(
        dataset,
        filepath=PurePosixPath(path),
        version=version,
        exists_function=dataset._fs.exists,
        glob_function=dataset._fs.glob,
    )


class RunVersions:
    """Versioned loads that see only complete runs (netflix_dec.transaction).

    Kedro's "latest" is the newest version folder, whichever run wrote it and
    whether or not that run finished: a run killed just after its
    ``dec_model`` save would make its model the latest while the calibration
    stays the previous run's. Here "latest" is the newest version saved by a
    complete run in the project's run ledger (or by no recorded run: a save
    from a notebook), plus the loading run's own versions; an explicit
    ``--load-versions`` of a run that did not complete is refused. Outside a
    project that ever ran (no ledger), Kedro's own rule applies.

    Overrides the public ``resolve_load_version``, which Kedro's load path,
    ``exists`` and the save-consistency check all go through.
    """

    _version: Version | None
    _filepath: PurePosixPath
    _protocol: str

    @property
    def is_versioned(self) -> bool:
        """Whether the dataset is versioned (``versioned: true``)."""
        return self._version is not None

    @property
    def local_path(self) -> Path | None:
        """The local file an unversioned dataset reads and writes (None otherwise)."""
        if self._version is not None or self._protocol != "file":
            return None
        return Path(get_filepath_str(self._filepath, self._protocol))

    def version_path(self, version: str) -> PurePosixPath:
        """Where Kedro keeps ``version``: ``<filepath>/<version>/<name>``."""
        return self._filepath / version / self._filepath.name

    def current_file(self) -> Path | None:
        """The local file a load reads now: the latest complete version, or the file.

        None on an object store, before the first save, or when no complete
        run's version is there (see :meth:`resolve_load_version`).
        """
        if self._protocol != "file":
            return None
        if self._version is None:
            path = self.local_path
        else:
            try:
                version = self.resolve_load_version()
            except DatasetError:  # no (complete) version yet
                return None
            if not version:
                return None
            path = Path(get_filepath_str(self.version_path(version), self._protocol))
        return path if path is not None and path.is_file() else None

    def has_version(self, version: str) -> bool:
        """Whether ``version`` of a versioned dataset exists."""
        path = get_filepath_str(self.version_path(version), self._protocol)
        return bool(self._fs.exists(path))  # type: ignore[attr-defined]

    def _run_ledger(self) -> Any:
        if self._protocol != "file":
            return None
        from netflix_dec.storage.ledger import Ledger, find_ledger  # noqa: PLC0415

        folder = find_ledger(str(self._filepath))
        return Ledger(folder) if folder is not None else None

    def resolve_load_version(self) -> str | None:
        if not self._version:
            return None
        ledger = self._run_ledger()
        asked, own = self._version.load, self._version.save
        if asked:
            record = ledger.incomplete(asked) if ledger and asked != own else None
            if record is not None:
                raise DatasetError(
                    f"{self._filepath}: version {asked} was saved by a run that "
                    f"{'failed' if record.state == 'failed' else 'did not complete'} "
                    f"(started {record.started or '?'}; {ledger.record_path(asked)}), "
                    "so it may not match the other outputs. Load a complete run's "
                    "version, or re-run."
                )
            return asked
        if ledger is None:
            return super().resolve_load_version()  # type: ignore[misc]
        from netflix_dec.storage.ledger import latest_visible  # noqa: PLC0415

        pattern = get_filepath_str(self.version_path("*"), self._protocol)
        versions = [
            PurePosixPath(found).parent.name
            for found in self._fs.glob(pattern)  # type: ignore[attr-defined]
        ]
        latest = latest_visible(versions, ledger, own)
        if latest is None:
            raise VersionNotFoundError(
                f"Did not find any version of {self._filepath} saved by a complete "
                f"run ({len(versions)} version(s) of runs that did not complete)."
            )
        return latest
