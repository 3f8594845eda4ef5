"""The content-addressed stores runs share: feature rows and the last map.

Each entry is stored under a key that names it completely (a hash of what made
it and of every setting), so whatever a run finds under a key is what it would
compute again: :class:`FeatureCache` keeps feature rows by description and
encoder settings, :class:`MapCache` the last 2-D map or UMAP layout by its
input and settings. Both are Kedro datasets that load as themselves, so a node
extends them as it goes; every write is atomic (:mod:`.atomic`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io.core import AbstractDataset, DatasetError
from scipy import sparse

from netflix_dec.encoders.cache import CachedRows, CacheLookup
from netflix_dec.encoders.matrix import FeatureMatrix, stack_rows
from netflix_dec.storage.atomic import atomic_target, remove_orphans

logger = logging.getLogger(__name__)

_CACHE_SUFFIX = ".npz"


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
          type: netflix_dec.storage.caches.FeatureCache
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
        remove_orphans(self._path, suffix=_CACHE_SUFFIX)
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
          type: netflix_dec.storage.caches.MapCache
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
