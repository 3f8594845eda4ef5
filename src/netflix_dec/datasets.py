"""Custom Kedro datasets, for what kedro-datasets does not do.

Two gaps: kedro-datasets has no NumPy dataset, and its datasets write in
place, so a run killed during a save, or a full disk, leaves a truncated
``clusters.csv`` or ``dec_model.keras`` where the previous good result was.
:class:`AtomicDataset` wraps any kedro-datasets class and makes its saves
atomic; :class:`NumpyDataset` is atomic itself. Features can be a SciPy
sparse matrix (TF-IDF: 100,000 titles × 10,000 words would be 4 GB dense), so
:class:`NumpyDataset` stores both: ``.npy`` for dense arrays, ``.npz`` for
dense or sparse ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import struct
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, NamedTuple

import fsspec
import numpy as np
import pandas as pd
from kedro.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    VersionNotFoundError,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro.utils import load_obj
from kedro_datasets.pandas import CSVDataset
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import sparse

from netflix_dec.features import FeatureMatrix, stack_rows

logger = logging.getLogger(__name__)

_DENSE_KEY = "array"

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"), after any
# number of quotes already added by an earlier escape.
_FORMULA = r"^'*[=+\-@\t\r]"


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
    _remove_orphans(final)
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


def _remove_orphans(final: Path) -> None:
    """Remove temporary files of ``final`` left by processes that were killed."""
    for orphan in final.parent.glob(f".{final.stem}.*-*.tmp{final.suffix}"):
        pid = orphan.name[len(final.stem) + 2 :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                orphan.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _init_versioned_file(
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


class _RunVersions:
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

    def has_version(self, version: str) -> bool:
        """Whether ``version`` of a versioned dataset exists."""
        path = get_filepath_str(self.version_path(version), self._protocol)
        return bool(self._fs.exists(path))  # type: ignore[attr-defined]

    def _run_ledger(self) -> Any:
        if self._protocol != "file":
            return None
        from netflix_dec.transaction import Ledger, find_ledger  # noqa: PLC0415

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
        from netflix_dec.transaction import latest_visible  # noqa: PLC0415

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


class AtomicDataset(_RunVersions, AbstractVersionedDataset[Any, Any]):
    """Any file dataset, saved to a temporary file and renamed into place.

    The wrapped dataset (any kedro-datasets class that takes a ``filepath``)
    does the reading and writing; this class only points its save at a
    temporary file in the same folder and renames that over the target when
    the save has finished, so a kill or a full disk leaves the previous result
    whole. Loads read the target itself. ``versioned: true`` works as for any
    Kedro dataset: each save goes, atomically, to
    ``<filepath>/<version>/<name>``.

    On object stores (``s3://``, ``gs://``, ...), where an upload replaces an
    object whole or not at all, the save goes straight to the target.

    Example (``catalog.yml``)::

        clusters:
          type: netflix_dec.datasets.AtomicDataset
          filepath: data/07_model_output/clusters.csv
          dataset:
            type: pandas.CSVDataset
            save_args:
              index: false
    """

    def __init__(
        self,
        *,
        filepath: str,
        dataset: str | dict[str, Any],
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        schema: str | None = None,
    ) -> None:
        """Wrap a dataset configuration.

        Args:
            filepath: The target file, optionally with a protocol.
            dataset: The wrapped dataset: a type name (``pandas.CSVDataset``)
                or a dict with ``type`` and the dataset's other arguments
                except ``filepath`` and ``versioned``.
            version: Set by Kedro from ``versioned: true``.
            credentials: Passed to the wrapped dataset and the filesystem.
            fs_args: Passed to the wrapped dataset and the filesystem.
            metadata: Free-form metadata, ignored by Kedro.
            schema: A Pydantic model (``package.module.Model``) the data must
                fit: checked on every load and save, so a damaged or edited
                artifact stops the run naming the file instead of failing
                later with a raw ``KeyError`` (or being trusted).
        """
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        for key in ("filepath", "versioned", "version"):
            if key in config:
                raise DatasetError(
                    f"AtomicDataset({filepath!r}): put {key!r} on the wrapper, "
                    "not inside its 'dataset'."
                )
        if "type" not in config:
            raise DatasetError(
                f"AtomicDataset({filepath!r}): 'dataset' needs a 'type', such as "
                "pandas.CSVDataset."
            )
        if credentials is not None:
            config["credentials"] = credentials
        if fs_args is not None:
            config["fs_args"] = fs_args
        _init_versioned_file(
            self, filepath, version, {**(credentials or {}), **_fs_only(fs_args)}
        )
        self._config = config
        self._datasets: dict[str, AbstractDataset] = {}
        self.metadata = metadata
        self._schema = load_obj(schema) if schema else None
        if self._schema is not None and not (
            isinstance(self._schema, type) and issubclass(self._schema, BaseModel)
        ):
            raise DatasetError(
                f"AtomicDataset({filepath!r}): schema {schema!r} is not a Pydantic model."
            )

    def _dataset_at(self, path: str) -> AbstractDataset:
        """The wrapped dataset, unversioned, reading or writing ``path``."""
        if path not in self._datasets:
            self._datasets[path] = AbstractDataset.from_config(
                f"{self._filepath.name} (wrapped)", {**self._config, "filepath": path}
            )
        return self._datasets[path]

    def _full_path(self, path: PurePosixPath) -> str:
        if self._protocol == "file":
            return str(path)
        return f"{self._protocol}://{path}"

    def load(self) -> Any:
        path = self._full_path(self._get_load_path())
        if (
            self._protocol == "file"
            and path.endswith(".keras")
            and Path(path).is_file()
            and not zipfile.is_zipfile(path)
        ):
            raise ArtifactError(
                f"{path} is not a Keras model file (a .keras file is a zip archive): "
                "it was damaged or replaced. Train it again with `kedro run`, or "
                "load another version with --load-versions."
            )
        data = self._dataset_at(path).load()
        self._check_schema(data, path, "load")
        return data

    def _check_schema(self, data: Any, path: str, operation: str) -> None:
        if self._schema is None:
            return
        try:
            self._schema.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'the file'}: "
                f"{item['msg']}"
                for item in error.errors()[:5]
            )
            if operation == "save":
                raise ArtifactError(
                    f"Refusing to save {path}: it does not fit its schema "
                    f"{self._schema.__name__} ({problems})."
                ) from None
            raise ArtifactError(
                f"{path} is not a valid {self._schema.__name__} ({problems}). It was "
                "damaged or edited by hand: re-run the pipeline that makes it "
                "(`kedro run`), or load another version with --load-versions."
            ) from None

    def save(self, data: Any) -> None:
        self._check_schema(data, str(self._filepath), "save")
        target = self._get_save_path()
        if self._protocol != "file":
            self._dataset_at(self._full_path(target)).save(data)
            return
        with atomic_target(target) as temporary:
            dataset = self._dataset_at(str(temporary))
            try:
                dataset.save(data)
            finally:
                self._datasets.pop(str(temporary), None)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return self._fs.exists(get_filepath_str(path, self._protocol))

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "dataset": self._config.get("type"),
            "version": self._version,
        }

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        for dataset in self._datasets.values():
            dataset.release()
        self._datasets.clear()
        filepath = get_filepath_str(self._filepath, self._protocol)
        self._fs.invalidate_cache(filepath)


class ArtifactError(DatasetError):
    """A stored artifact (model, calibration, encoder) is not what its format says."""


def _fs_only(fs_args: dict[str, Any] | None) -> dict[str, Any]:
    """``fs_args`` without the per-file open arguments kedro-datasets accepts there."""
    return {
        key: value
        for key, value in (fs_args or {}).items()
        if key not in ("open_args_load", "open_args_save")
    }


class NumpyDataset(
    _RunVersions, AbstractVersionedDataset[FeatureMatrix, FeatureMatrix]
):
    """Load and save NumPy arrays and SciPy sparse matrices, on any fsspec path.

    ``.npy`` holds one dense array (``np.save``); ``.npz`` holds a sparse
    matrix (``scipy.sparse.save_npz``) or a dense array. Pickled objects are
    refused on load. A local save is atomic (:func:`atomic_target`): a failed
    or killed save leaves the previous file whole and no temporary file.
    ``versioned: true`` is supported.

    Example (``catalog.yml``)::

        features:
          type: netflix_dec.datasets.NumpyDataset
          filepath: data/04_feature/features.npz
    """

    def __init__(
        self,
        *,
        filepath: str,
        mmap_mode: str | None = None,
        version: Version | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a dataset for one ``.npy`` or ``.npz`` file.

        Args:
            filepath: Path ending in ``.npy`` or ``.npz``, optionally with a
                protocol such as ``s3://``.
            mmap_mode: Memory-map a local file on load (see ``np.load``)
                instead of reading it whole: a ``.npy``, or the dense array
                of an ``.npz`` (stored uncompressed, as :meth:`save` writes
                it); a sparse matrix is read whole. Read sampled rows of a
                mapped array with :func:`read_rows`.
            version: Set by Kedro from ``versioned: true``.
            fs_args: Extra arguments for the fsspec filesystem.
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._suffix = PurePosixPath(get_protocol_and_path(filepath)[1]).suffix
        # An empty path is PartitionedDataset's placeholder for its repr.
        if filepath and self._suffix not in (".npy", ".npz"):
            raise DatasetError(
                f"NumpyDataset needs a .npy or .npz filepath, got {filepath!r}"
            )
        _init_versioned_file(self, filepath, version, fs_args or {})
        self._mmap_mode = mmap_mode
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "mmap_mode": self._mmap_mode,
            "version": self._version,
        }

    def load(self) -> FeatureMatrix:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        if self._mmap_mode and self._protocol == "file":
            if self._suffix == ".npy":
                return np.load(path, mmap_mode=self._mmap_mode, allow_pickle=False)
            mapped = _map_npz_array(path, self._mmap_mode)
            if mapped is not None:
                return mapped
        # Read straight from the (seekable) file: a million titles' features
        # are over a gigabyte, and a bytes copy first would double that.
        with self._fs.open(path, mode="rb") as file:
            if self._suffix == ".npy":
                return np.load(file, allow_pickle=False)
            with np.load(file, allow_pickle=False) as archive:
                if _DENSE_KEY in archive.files:
                    return archive[_DENSE_KEY]
            file.seek(0)
            return sparse.load_npz(file)

    def save(self, data: FeatureMatrix) -> None:
        if sparse.issparse(data):
            if self._suffix != ".npz":
                raise DatasetError(
                    f"{self._filepath}: a sparse matrix is stored as .npz, not {self._suffix}"
                )
        elif not isinstance(data, np.ndarray):
            raise DatasetError(
                f"{self._filepath}: expected a NumPy array or SciPy sparse matrix, "
                f"got {type(data).__name__}"
            )
        elif data.dtype == object:
            raise DatasetError(f"{self._filepath}: refusing to store an object array")
        path = get_filepath_str(self._get_save_path(), self._protocol)
        if self._protocol != "file":  # an object store replaces objects whole
            with self._fs.open(path, mode="wb") as file:
                self._write(file, data)
            return
        # Serialised straight into the temporary file (no copy of the whole
        # file in memory: a million titles' features are over a gigabyte),
        # then renamed over the old one.
        with atomic_target(path) as temporary, open(temporary, "wb") as file:
            self._write(file, data)
        self._fs.invalidate_cache(path)

    def _write(self, file: BinaryIO, data: FeatureMatrix) -> None:
        if sparse.issparse(data):
            sparse.save_npz(file, data, compressed=False)
        elif self._suffix == ".npy":
            np.save(file, data, allow_pickle=False)
        else:
            np.savez(file, **{_DENSE_KEY: data})

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return self._fs.exists(get_filepath_str(path, self._protocol))


def _map_npz_array(path: str, mode: str) -> np.memmap | None:
    """The dense array of an ``.npz`` as a memory map, or None when it cannot be.

    ``np.load`` ignores ``mmap_mode`` for ``.npz`` archives. The dense array is
    an ``.npy`` stored (not compressed) inside the zip, so it can be mapped at
    its offset in the file. None for a sparse matrix, a compressed member or
    an empty array, which the caller reads as usual.
    """
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(f"{_DENSE_KEY}.npy")
        except KeyError:
            return None
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as file:
        # The local header's name and extra field may differ from the
        # central directory's: the member's bytes start after them.
        file.seek(info.header_offset)
        header = file.read(30)
        if header[:4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        file.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
        offset = file.tell()
    if dtype.hasobject or 0 in shape:
        return None
    return np.memmap(
        path,
        dtype=dtype,
        mode=mode,
        offset=offset,
        shape=shape,
        order="F" if fortran else "C",
    )


def read_rows(array: FeatureMatrix, rows: np.ndarray) -> FeatureMatrix:
    """``array[rows]`` in memory, reading only those rows of a memory-mapped file.

    Indexing a memory map makes far more than the rows asked for resident:
    each page fault maps the pages around it too (64 KB), so a sample of
    10,000 rows of a 700,000-title embedding made all of its gigabyte
    resident. Rows of an array that maps a whole file (what
    :class:`NumpyDataset` loads with ``mmap_mode``) are read from the file
    one by one instead; anything else (an array in memory, a sparse matrix)
    is indexed as usual.

    Args:
        array: An array, possibly memory-mapped, or a sparse matrix.
        rows: Integer row indices (negative ones count from the end).

    Returns:
        ``array[rows]``; from a memory map, as an array in memory.
    """
    rows = np.asarray(rows)
    shared = (
        hasattr(os, "preadv")  # Linux and BSDs; elsewhere rows are indexed
        and isinstance(array, np.memmap)
        and isinstance(array.base, mmap.mmap)
        and array.mode in ("r", "r+", "w+")  # not copy-on-write: the file is current
        and array.flags.c_contiguous
        and array.ndim >= 1
        and rows.ndim == 1
        and rows.dtype.kind in "iu"
    )
    if not shared:
        return array[rows]
    n = array.shape[0]
    if rows.size and (rows.min() < -n or rows.max() >= n):
        raise IndexError(f"row index out of range for an array of {n} rows")
    rows = np.where(rows < 0, rows + n, rows)
    taken = np.empty((len(rows), *array.shape[1:]), dtype=array.dtype)
    if taken.size == 0:
        return taken
    row_bytes = taken.nbytes // len(rows)
    buffers = taken.reshape(len(rows), -1).view(np.uint8)
    file = os.open(array.filename, os.O_RDONLY)
    try:
        for slot, row in enumerate(rows.tolist()):
            read = os.preadv(file, [buffers[slot]], array.offset + row * row_bytes)
            if read != row_bytes:
                raise OSError(f"{array.filename}: short read of row {row}")
    finally:
        os.close(file)
    return taken


class SpreadsheetSafeCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose files are safe to open in a spreadsheet.

    Titles and descriptions come from a catalogue nobody here controls; a cell
    such as ``=HYPERLINK(...)`` in ``clusters.csv`` would run as a formula
    when someone opens the file in Excel or LibreOffice. Text cells that start
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are written with
    a leading ``'`` (OWASP's advice), and a load removes exactly that quote,
    so the pipeline reads back what it wrote. Numbers are written as numbers.

    Example (``catalog.yml``, inside :class:`AtomicDataset`)::

        dataset:
          type: netflix_dec.datasets.SpreadsheetSafeCSVDataset
          save_args:
            index: false
    """

    def save(self, data: pd.DataFrame) -> None:
        super().save(_map_formulas(data, lambda text: "'" + text))

    def load(self) -> pd.DataFrame:
        return _map_formulas(super().load(), lambda text: text.str[1:])


def _map_formulas(frame: pd.DataFrame, change: Any) -> pd.DataFrame:
    """Apply ``change`` to the text cells that start like a formula.

    Vectorised over each text column, and only the (few) matching cells are
    rewritten: a million-row table is escaped in about a second.
    """
    changed = None
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        values = frame[column]
        try:
            hits = values.str.contains(_FORMULA, regex=True, na=False)
        except AttributeError:  # an object column without text
            continue
        # Non-text cells (numbers in an object column) give NaN: no hit.
        rows = np.flatnonzero(hits.fillna(False).to_numpy(dtype=bool))
        rows = rows[[isinstance(values.iat[row], str) for row in rows]]
        if rows.size:
            if changed is None:
                changed = frame.copy()
            where = changed.columns.get_loc(column)
            changed.iloc[rows, where] = change(values.iloc[rows]).to_numpy()
    return frame if changed is None else changed


_CACHE_SUFFIX = ".npz"


class CacheLookup(NamedTuple):
    """What :meth:`FeatureCache.lookup` found for a list of keys."""

    found: np.ndarray
    """Boolean mask over the keys asked for: True where a row was cached."""
    rows: FeatureMatrix | None
    """The cached rows of the found keys, in the order asked for (None: none found)."""
    missing: list[str]
    """The keys without a cached row, in the order asked for."""


class CachedRows(BaseModel):
    """What a feature cache's rows must be for one text encoder.

    A shard edited, damaged or written by another version could hold rows of
    another width, dtype or sparsity, or NaNs; used as they are, they would
    fail far away (a Keras shape error) or cluster garbage without a word.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int | None = Field(default=None, ge=1)
    """Columns per row; None when the encoder does not record it."""
    sparse: bool
    """TF-IDF rows are CSR sparse; the others dense."""
    dtype: str = "float32"

    def problem(self, rows: Any) -> str | None:
        """What is wrong with ``rows``, or None when they fit."""
        is_sparse = sparse.issparse(rows)
        if not is_sparse and not isinstance(rows, np.ndarray):
            return f"a {type(rows).__name__}, not an array"
        expected = "sparse" if self.sparse else "dense"
        checks = (
            (is_sparse == self.sparse, lambda: f"not {expected} rows"),
            (rows.ndim == 2, lambda: f"{rows.ndim}-D rows, expected 2-D"),
            (
                self.width is None or rows.ndim != 2 or rows.shape[1] == self.width,
                lambda: f"{rows.shape[1]} columns, expected {self.width}",
            ),
            (
                rows.dtype == np.dtype(self.dtype),
                lambda: f"dtype {rows.dtype}, expected {self.dtype}",
            ),
        )
        for fits, message in checks:
            if not fits:
                return message()
        values = rows.data if is_sparse else rows
        if not np.isfinite(values).all():
            return "values that are not finite (NaN or infinite)"
        return None


class _BadShardError(Exception):
    def __init__(self, shard: Path, problem: str) -> None:
        super().__init__(f"{shard}: {problem}")
        self.shard, self.problem = shard, problem


def map_positions_problem(
    positions: Any, rows: int | None, width: int = 2
) -> str | None:
    """What is wrong with stored map positions, or None when they fit.

    Positions are a (titles, ``width``) float array of finite values (2 for a
    t-SNE map, the number of components for a UMAP layout); a stored entry of
    strings or NaNs would otherwise become a ``points.json`` of garbage.
    """
    if not isinstance(positions, np.ndarray) or positions.dtype.kind != "f":
        kind = getattr(positions, "dtype", type(positions).__name__)
        return f"positions of type {kind}, expected floats"
    if positions.ndim != 2 or positions.shape[1] != width:
        return f"positions of shape {positions.shape}, expected (titles, {width})"
    if rows is not None and positions.shape[0] != rows:
        return f"{positions.shape[0]} positions for {rows} titles"
    if not np.isfinite(positions).all():
        return "positions that are not finite (NaN or infinite)"
    return None


class _CacheDataset(AbstractDataset[Any, None]):
    """A cache a node is handed whole and extends itself with ``store``.

    Loading gives the cache object, so a node can look up and store entries as
    it goes; there is nothing to ``save``. Subclasses say how entries are
    stored (:attr:`STORED_WITH`) and where they live (:attr:`_path`).
    """

    STORED_WITH = "store(...)"
    _path: Path

    def load(self) -> Any:
        return self

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{type(self).__name__} {self._path} is extended with "
            f"{self.STORED_WITH}, not saved."
        )


class FeatureCache(_CacheDataset):
    """Feature rows stored once per key and reused by any later run.

    A key names one feature row completely (for the project: a hash of the
    description text and of every feature setting), so a row found under its
    key is the row the encoder would compute again. The store is a folder of
    shards: each :meth:`store` call writes one ``.npz`` file holding its keys
    and their rows (dense, or CSR sparse), first under a temporary name, then
    renamed into place. A run killed mid-write therefore leaves at most a
    hidden temporary file that no lookup reads, and parallel writers never touch
    the same file. Loading the dataset gives the cache itself, so a node reads and
    extends it through :meth:`lookup` and :meth:`store`.

    Example (``catalog.yml``)::

        feature_cache:
          type: netflix_dec.datasets.FeatureCache
          path: data/04_feature/cache
    """

    STORED_WITH = "store(keys, rows)"

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create a cache over one local folder (made on the first store).

        Args:
            path: Folder of the shards.
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(path)
        self.metadata = metadata
        self._index: dict[str, tuple[Path, int]] = {}
        self._indexed: set[Path] = set()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _shards(self) -> list[Path]:
        if not self._path.is_dir():
            return []
        # Names starting with a dot are atomic_target's unfinished writes.
        return sorted(
            shard
            for shard in self._path.glob(f"*{_CACHE_SUFFIX}")
            if not shard.name.startswith(".")
        )

    def _remove_killed_writes(self) -> None:
        """Remove unfinished shards (``atomic_target`` names) of killed processes.

        Each shard has a name of its own, so the cleanup ``atomic_target`` does
        for the same file never finds them; this does it for the folder.
        """
        for orphan in self._path.glob(f".*.tmp{_CACHE_SUFFIX}"):
            pid = orphan.name[1:].split(".")[1].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(FileNotFoundError):
                    orphan.unlink()

    def _refresh_index(self) -> None:
        """Read the keys of shards not seen yet (rows are read only when needed)."""
        for shard in self._shards():
            if shard in self._indexed:
                continue
            self._indexed.add(shard)
            try:
                with np.load(shard, allow_pickle=False) as archive:
                    keys = archive["keys"]
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
                logger.warning(
                    "Feature cache: ignoring unreadable %s (%s).", shard, error
                )
                continue
            if keys.dtype.kind == "S":  # stored as UTF-8 bytes (see store)
                keys = np.char.decode(keys, "utf-8")
            for position, key in enumerate(keys.tolist()):
                self._index.setdefault(str(key), (shard, position))

    def __len__(self) -> int:
        self._refresh_index()
        return len(self._index)

    def lookup(
        self, keys: Sequence[str], expected: CachedRows | None = None
    ) -> CacheLookup:
        """The cached rows of ``keys`` and the keys that have none.

        Args:
            keys: Row keys, in the order the caller wants the rows.
            expected: What the rows must be (width, dtype, sparsity, finite).
                A shard whose rows are not is dropped with a warning naming it
                (deleted: it would fail every later run too), and its keys
                count as missing, so the caller computes them again.

        Returns:
            A :class:`CacheLookup`.
        """
        while True:
            try:
                return self._lookup(keys, expected)
            except _BadShardError as bad:
                logger.warning(
                    "Feature cache: dropping %s, whose rows are not what the text "
                    "encoder makes (%s); they are computed again.",
                    bad.shard,
                    bad.problem,
                )
                self._drop(bad.shard)

    def _drop(self, shard: Path) -> None:
        self._index = {
            key: place for key, place in self._index.items() if place[0] != shard
        }
        with contextlib.suppress(OSError):
            shard.unlink()

    def _lookup(self, keys: Sequence[str], expected: CachedRows | None) -> CacheLookup:
        self._refresh_index()
        found = np.array([key in self._index for key in keys], dtype=bool)
        missing = [key for key, hit in zip(keys, found, strict=True) if not hit]
        if not found.any():
            return CacheLookup(found, None, missing)
        hits = [key for key, hit in zip(keys, found, strict=True) if hit]
        by_shard: dict[Path, list[tuple[int, int]]] = {}
        for slot, key in enumerate(hits):
            shard, position = self._index[key]
            by_shard.setdefault(shard, []).append((slot, position))
        # Copies are skipped where the order already fits: a million cached
        # rows are a gigabyte, read back whole by a re-run.
        parts, slots = [], []
        for shard, pairs in by_shard.items():
            try:
                rows = _read_shard_rows(shard)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
                raise _BadShardError(shard, f"unreadable: {error}") from error
            if expected is not None and (problem := expected.problem(rows)):
                raise _BadShardError(shard, problem)
            positions = np.fromiter((p for _, p in pairs), np.intp, len(pairs))
            whole = len(positions) == rows.shape[0] and _ascending(positions)
            parts.append(rows if whole else rows[positions])
            slots.extend(slot for slot, _ in pairs)
        stacked = stack_rows(parts)
        slots_array = np.asarray(slots)
        if not _ascending(slots_array):
            stacked = stacked[np.argsort(slots_array)]
        return CacheLookup(found, stacked, missing)

    def store(self, keys: Sequence[str], rows: FeatureMatrix) -> Path | None:
        """Add rows under their keys, atomically, in one new shard.

        Keys already cached are not written again.

        Args:
            keys: One key per row.
            rows: Dense array or sparse matrix, one row per key.

        Returns:
            The shard written, or None when there was nothing new.
        """
        if len(keys) != rows.shape[0]:
            raise ValueError(f"{len(keys)} keys for {rows.shape[0]} rows")
        self._refresh_index()
        new = [i for i, key in enumerate(keys) if key not in self._index]
        if not new:
            return None
        if len(new) < len(keys):  # else no copy: a million rows are a gigabyte
            keys, rows = [keys[i] for i in new], rows[new]
        keys = [str(key) for key in keys]
        # Stored as UTF-8 bytes: NumPy's unicode strings take 4 bytes a
        # character, 180 MB for a million 64-character hashes.
        stored_keys = np.array([key.encode("utf-8") for key in keys], dtype=bytes)
        arrays: dict[str, np.ndarray] = {"keys": stored_keys}
        if sparse.issparse(rows):
            csr = sparse.csr_matrix(rows)
            arrays.update(
                data=csr.data,
                indices=csr.indices,
                indptr=csr.indptr,
                shape=np.asarray(csr.shape),
            )
        else:
            arrays["rows"] = np.asarray(rows)
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
        shard = self._path / f"{digest}-{uuid.uuid4().hex[:8]}{_CACHE_SUFFIX}"
        self._remove_killed_writes()
        with atomic_target(shard) as temporary, temporary.open("wb") as file:
            np.savez(file, **arrays)
        self._indexed.add(shard)
        for position, key in enumerate(keys):
            self._index.setdefault(key, (shard, position))
        return shard


def _ascending(values: np.ndarray) -> bool:
    """Whether ``values`` is 0, 1, 2, ... (an index that changes nothing)."""
    return bool(np.array_equal(values, np.arange(len(values))))


def _read_shard_rows(shard: Path) -> FeatureMatrix:
    with np.load(shard, allow_pickle=False) as archive:
        if "rows" in archive.files:
            return archive["rows"]
        return sparse.csr_matrix(
            (archive["data"], archive["indices"], archive["indptr"]),
            shape=tuple(archive["shape"]),
        )


class MapCache(_CacheDataset):
    """The last 2-D map, stored under the key of what made it (one entry).

    A t-SNE map is a pure function of its input rows and its settings, and a
    re-run often maps the very same rows again: with sentence features and no
    autoencoder, changing ``n_clusters`` changes the clusters, not the
    embedding t-SNE maps. The key names the map completely (for the project, a
    hash of the input's bytes and of every setting that changes the map, see
    :func:`netflix_dec.projection.map_key`), so positions found under it are
    the positions a refit would compute. One entry is kept: each store
    replaces the file atomically (:func:`atomic_target`), so a killed run leaves
    the previous entry whole. An unreadable file counts as a miss. Loading the
    dataset gives the cache itself; a node reads it with :meth:`lookup` and
    writes it with :meth:`store`.

    Example (``catalog.yml``)::

        map_cache:
          type: netflix_dec.datasets.MapCache
          filepath: data/07_model_output/map_cache.npz
    """

    STORED_WITH = "store(key, positions)"

    def __init__(
        self, *, filepath: str, metadata: dict[str, Any] | None = None
    ) -> None:
        """Create a cache of one local ``.npz`` file (written on the first store).

        Args:
            filepath: The file holding the key and the positions.
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._path)}

    def _exists(self) -> bool:
        return self._path.is_file()

    @property
    def path(self) -> Path:
        """The file the entry is stored in (for log messages)."""
        return self._path

    def lookup(
        self, key: str, rows: int | None = None, width: int = 2
    ) -> np.ndarray | None:
        """The positions stored under ``key``, or None when the entry is another's.

        An entry that is not ``rows`` finite positions of ``width`` (see
        :func:`map_positions_problem`) is ignored with a warning naming the
        file: the map is fitted again and the next store replaces it.
        """
        try:
            with np.load(self._path, allow_pickle=False) as archive:
                if str(archive["key"]) != key:
                    return None
                positions = archive["positions"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            logger.warning("Map cache: ignoring unreadable %s (%s).", self._path, error)
            return None
        problem = map_positions_problem(positions, rows, width)
        if problem is not None:
            logger.warning(
                "Map cache: ignoring %s, which holds %s; the map is fitted again.",
                self._path,
                problem,
            )
            return None
        return positions

    def store(self, key: str, positions: np.ndarray) -> None:
        """Replace the entry with ``positions`` under ``key``, atomically."""
        with atomic_target(self._path) as temporary, temporary.open("wb") as file:
            np.savez(file, key=np.asarray(key), positions=np.asarray(positions))


class OptionalDataset(AtomicDataset):
    """A read-only input that may not exist yet: its load is ``None`` then.

    What a run follows when there may be nothing to follow: the previous
    run's cluster identities (the newest version of ``cluster_identities``,
    or the one ``--load-versions`` names) before the first run, a names file
    the user has not written, the previous assign run's titles. It counts as
    existing, so the start-up check does not ask for it; it refuses saves,
    as it reads what another entry writes.

    Example (``catalog.yml``)::

        previous_cluster_identities:
          type: netflix_dec.datasets.OptionalDataset
          filepath: data/06_models/cluster_identities.json
          versioned: true
          dataset:
            type: json.JSONDataset
    """

    def load(self) -> Any:
        if not super()._exists():
            return None
        return super().load()

    def save(self, data: Any) -> None:
        raise DatasetError(
            f"{self._filepath} is read here as an optional input and is written "
            "by another catalogue entry; this one does not save."
        )

    def _exists(self) -> bool:
        return True
