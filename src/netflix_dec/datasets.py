"""Custom Kedro datasets, for what kedro-datasets has no dataset for.

kedro-datasets has no NumPy dataset. Features can be a SciPy sparse matrix
(TF-IDF: 100,000 titles × 10,000 words would be 4 GB dense), so one dataset
stores both: ``.npy`` for dense arrays, ``.npz`` for dense or sparse ones.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractDataset,
    DatasetError,
    get_filepath_str,
    get_protocol_and_path,
)
from scipy import sparse

ArrayLike = np.ndarray | sparse.spmatrix | sparse.sparray
_DENSE_KEY = "array"


class NumpyDataset(AbstractDataset[ArrayLike, ArrayLike]):
    """Load and save NumPy arrays and SciPy sparse matrices, on any fsspec path.

    ``.npy`` holds one dense array (``np.save``); ``.npz`` holds a sparse
    matrix (``scipy.sparse.save_npz``) or a dense array. Pickled objects are
    refused on load. A save writes to a temporary file first, so a failed
    save never leaves a truncated file behind as if it were a result.

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
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a dataset for one ``.npy`` or ``.npz`` file.

        Args:
            filepath: Path ending in ``.npy`` or ``.npz``, optionally with a
                protocol such as ``s3://``.
            mmap_mode: Memory-map a local ``.npy`` on load (see ``np.load``)
                instead of reading it whole.
            fs_args: Extra arguments for the fsspec filesystem.
            metadata: Free-form metadata, ignored by Kedro.
        """
        protocol, path = get_protocol_and_path(filepath)
        self._suffix = PurePosixPath(path).suffix
        if self._suffix not in (".npy", ".npz"):
            raise DatasetError(
                f"NumpyDataset needs a .npy or .npz filepath, got {filepath!r}"
            )
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol, **(fs_args or {}))
        self._mmap_mode = mmap_mode
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "mmap_mode": self._mmap_mode,
        }

    def load(self) -> ArrayLike:
        path = get_filepath_str(self._filepath, self._protocol)
        if self._suffix == ".npy" and self._mmap_mode and self._protocol == "file":
            return np.load(path, mmap_mode=self._mmap_mode, allow_pickle=False)
        with self._fs.open(path, mode="rb") as file:
            buffer = io.BytesIO(file.read())
        if self._suffix == ".npy":
            return np.load(buffer, allow_pickle=False)
        with np.load(buffer, allow_pickle=False) as archive:
            if _DENSE_KEY in archive.files:
                return archive[_DENSE_KEY]
        buffer.seek(0)
        return sparse.load_npz(buffer)

    def save(self, data: ArrayLike) -> None:
        buffer = io.BytesIO()
        if sparse.issparse(data):
            if self._suffix != ".npz":
                raise DatasetError(
                    f"{self._filepath}: a sparse matrix is stored as .npz, not {self._suffix}"
                )
            sparse.save_npz(buffer, data, compressed=False)
        elif isinstance(data, np.ndarray):
            if data.dtype == object:
                raise DatasetError(
                    f"{self._filepath}: refusing to store an object array"
                )
            if self._suffix == ".npy":
                np.save(buffer, data, allow_pickle=False)
            else:
                np.savez(buffer, **{_DENSE_KEY: data})
        else:
            raise DatasetError(
                f"{self._filepath}: expected a NumPy array or SciPy sparse matrix, "
                f"got {type(data).__name__}"
            )
        path = get_filepath_str(self._filepath, self._protocol)
        partial = f"{path}.partial"
        self._fs.mkdirs(str(PurePosixPath(path).parent), exist_ok=True)
        with self._fs.open(partial, mode="wb") as file:
            file.write(buffer.getbuffer())
        self._fs.mv(partial, path)

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))
