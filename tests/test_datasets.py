"""NumpyDataset: round trips for dense and sparse data, and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError
from scipy import sparse

from netflix_dec.datasets import NumpyDataset


@pytest.fixture
def dense() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_dense_round_trip_keeps_values_dtype_and_shape(tmp_path: Path, dense, suffix):
    dataset = NumpyDataset(filepath=str(tmp_path / f"sub/array{suffix}"))
    assert not dataset.exists()
    dataset.save(dense)
    loaded = dataset.load()
    assert dataset.exists()
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, dense)


def test_sparse_round_trip_stays_sparse(tmp_path: Path):
    matrix = sparse.random(
        50, 1000, density=0.01, format="csr", dtype=np.float32, random_state=0
    )
    dataset = NumpyDataset(filepath=str(tmp_path / "features.npz"))
    dataset.save(matrix)
    loaded = dataset.load()
    assert sparse.issparse(loaded)
    assert loaded.shape == (50, 1000)
    assert loaded.dtype == np.float32
    assert (loaded != matrix).nnz == 0


def test_npy_can_be_memory_mapped(tmp_path: Path, dense):
    path = tmp_path / "array.npy"
    NumpyDataset(filepath=str(path)).save(dense)
    loaded = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    assert isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, dense)


def test_sparse_into_npy_is_refused_and_leaves_no_file(tmp_path: Path):
    path = tmp_path / "features.npy"
    with pytest.raises(DatasetError, match=r"sparse matrix is stored as \.npz"):
        NumpyDataset(filepath=str(path)).save(sparse.eye(3, format="csr"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("data", [np.array([{"a": 1}], dtype=object), [1, 2, 3]])
def test_objects_and_lists_are_refused(tmp_path: Path, data):
    with pytest.raises(DatasetError, match="object array|expected a NumPy array"):
        NumpyDataset(filepath=str(tmp_path / "x.npy")).save(data)
    assert list(tmp_path.iterdir()) == []


def test_other_suffixes_are_refused(tmp_path: Path):
    with pytest.raises(DatasetError, match=r"needs a \.npy or \.npz filepath"):
        NumpyDataset(filepath=str(tmp_path / "x.csv"))


def test_a_save_replaces_the_file_whole(tmp_path: Path, dense):
    dataset = NumpyDataset(filepath=str(tmp_path / "array.npy"))
    dataset.save(dense)
    dataset.save(dense[:2])
    np.testing.assert_array_equal(dataset.load(), dense[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["array.npy"]
