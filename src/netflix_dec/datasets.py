"""Custom Kedro datasets, for what kedro-datasets does not do.

Two gaps: kedro-datasets has no NumPy dataset, and its datasets write in
place, so a run killed during a save, or a full disk, leaves a truncated
``clusters.csv`` or ``dec_model.keras`` where the previous good result was.
:class:`AtomicDataset` wraps any kedro-datasets class and makes its saves
atomic; :class:`NumpyDataset` is atomic itself. Features can be a SciPy
sparse matrix (TF-IDF: 100,000 titles × 10,000 words would be 4 GB dense), so
:class:`NumpyDataset` stores both: ``.npy`` for dense arrays, ``.npz`` for
dense or sparse ones. :class:`SpreadsheetSafeCSVDataset` escapes formula-like
cells; :class:`OptionalDataset` reads an input that may not exist yet.

Only the Kedro dataset classes for files live here; what they build on is in
:mod:`netflix_dec.storage` (atomic writes, the ``.npz`` memory map, the
run-ledger mixin), and the feature and map caches are
:mod:`netflix_dec.storage.caches`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from kedro.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro.utils import load_obj
from kedro_datasets.pandas import CSVDataset
from pydantic import BaseModel, ValidationError
from scipy import sparse

from netflix_dec.encoders.matrix import FeatureMatrix
from netflix_dec.storage.arrays import DENSE_KEY, map_npz_array, save_npz
from netflix_dec.storage.atomic import atomic_target
from netflix_dec.storage.spreadsheet import escape_formulas, unescape_formulas
from netflix_dec.storage.versions import RunVersions, init_versioned_file


class AtomicDataset(RunVersions, AbstractVersionedDataset[Any, Any]):
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
        init_versioned_file(
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


class NumpyDataset(RunVersions, AbstractVersionedDataset[FeatureMatrix, FeatureMatrix]):
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
                mapped array with
                :func:`netflix_dec.storage.arrays.read_rows`.
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
        init_versioned_file(self, filepath, version, fs_args or {})
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
            mapped = map_npz_array(path, self._mmap_mode)
            if mapped is not None:
                return mapped
        # Read straight from the (seekable) file: a million titles' features
        # are over a gigabyte, and a bytes copy first would double that.
        with self._fs.open(path, mode="rb") as file:
            if self._suffix == ".npy":
                return np.load(file, allow_pickle=False)
            with np.load(file, allow_pickle=False) as archive:
                if DENSE_KEY in archive.files:
                    return archive[DENSE_KEY]
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
            save_npz(file, {DENSE_KEY: data})

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return self._fs.exists(get_filepath_str(path, self._protocol))


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
        super().save(escape_formulas(data))

    def load(self) -> pd.DataFrame:
        return unescape_formulas(super().load())


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
