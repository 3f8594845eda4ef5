"""NumpyDataset and AtomicDataset: round trips, refusals, and failed saves."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError
from scipy import sparse

from netflix_dec.datasets import (
    AtomicDataset,
    NumpyDataset,
    SpreadsheetSafeCSVDataset,
)
from netflix_dec.storage.arrays import ALIGNMENT, map_npz_array, read_rows, save_npz
from netflix_dec.storage.caches import FeatureCache, MapCache

from .conftest import HAS_SMAPS, resident_kb


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


def test_dense_npz_can_be_memory_mapped_and_sparse_npz_is_read_whole(
    tmp_path: Path, dense
):
    path = tmp_path / "features.npz"
    NumpyDataset(filepath=str(path)).save(dense)
    loaded = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    assert isinstance(loaded, np.memmap) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, dense)
    with pytest.raises(ValueError, match="read-only"):
        loaded[0, 0] = 1.0

    matrix = sparse.random(9, 20, density=0.2, format="csr", random_state=0)
    NumpyDataset(filepath=str(path)).save(matrix)
    loaded = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    assert sparse.issparse(loaded) and (loaded != matrix).nnz == 0


@pytest.mark.parametrize("shape", [(7, 3), (1000, 384), (5, 0), (3,)])
def test_a_saved_npz_maps_its_array_aligned_and_reads_back_bit_for_bit(
    tmp_path: Path, shape
):
    # np.savez leaves the array 59 bytes past a 64-byte boundary (NumPy then
    # flags the map unaligned); the dataset pads the zip header instead.
    array = np.random.default_rng(2).normal(size=shape).astype(np.float32)
    path = tmp_path / "features.npz"
    NumpyDataset(filepath=str(path)).save(array)
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == ["array"]
        loaded = archive["array"]
    assert loaded.dtype == np.float32 and loaded.tobytes() == array.tobytes()
    assert loaded.shape == shape
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    if array.size:
        mapped = NumpyDataset(filepath=str(path), mmap_mode="r").load()
        assert isinstance(mapped, np.memmap) and mapped.flags.aligned
        assert mapped.offset % ALIGNMENT == 0
        assert mapped.tobytes() == array.tobytes()
    # The bytes depend on the array alone: saved again, the file is the same.
    first = path.read_bytes()
    NumpyDataset(filepath=str(path)).save(array)
    assert path.read_bytes() == first
    # An object store's file is written the same way (fsspec's memory store).
    remote = NumpyDataset(filepath=f"memory://aligned/{len(shape)}-{array.size}.npz")
    remote.save(array)
    assert remote.load().tobytes() == array.tobytes()


def test_save_npz_aligns_every_member_whatever_its_name(tmp_path: Path):
    arrays = {
        "a": np.arange(5, dtype=np.int64),
        "a_much_longer_member_name": np.ones((3, 2), dtype=np.float64),
        "keys": np.array([b"x", b"yz"]),
    }
    path = tmp_path / "many.npz"
    with path.open("wb") as file:
        save_npz(file, arrays)
    with np.load(path, allow_pickle=False) as archive:
        for name, array in arrays.items():
            np.testing.assert_array_equal(archive[name], array)
    for name, array in arrays.items():
        mapped = map_npz_array(str(path), "r", key=name)
        assert mapped.offset % ALIGNMENT == 0
        np.testing.assert_array_equal(mapped, array)


def test_a_compressed_dense_npz_is_read_whole_when_mapping_is_asked(
    tmp_path: Path, dense
):
    path = tmp_path / "features.npz"
    np.savez_compressed(path, array=dense)
    loaded = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    assert not isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, dense)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_read_rows_of_a_mapped_file_equals_indexing(tmp_path: Path, suffix):
    array = np.random.default_rng(1).normal(size=(50, 4, 3)).astype(np.float32)
    path = tmp_path / f"a{suffix}"
    NumpyDataset(filepath=str(path)).save(array)
    mapped = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    rows = np.array([0, 3, 3, 49, -1, 17])
    taken = read_rows(mapped, rows)
    assert type(taken) is np.ndarray and taken.dtype == np.float32
    np.testing.assert_array_equal(taken, array[rows])
    assert read_rows(mapped, np.array([], dtype=int)).shape == (0, 4, 3)
    with pytest.raises(IndexError, match="50 rows"):
        read_rows(mapped, np.array([50]))
    # Arrays in memory and sparse matrices are indexed as they are.
    np.testing.assert_array_equal(read_rows(array, rows), array[rows])
    matrix = sparse.random(50, 6, density=0.3, format="csr", random_state=0)
    assert (read_rows(matrix, rows) != matrix[rows]).nnz == 0


@pytest.mark.skipif(not HAS_SMAPS, reason="needs Linux /proc/self/smaps")
def test_read_rows_leaves_the_rest_of_a_mapped_file_out_of_memory(tmp_path: Path):
    # 2,000 rows of 4 kB: a sample of every 50th row. Indexing the map faults
    # pages in around each row; read_rows maps none of them.
    array = np.ones((2000, 1024), dtype=np.float32)
    path = tmp_path / "e.npy"
    NumpyDataset(filepath=str(path)).save(array)
    rows = np.arange(0, 2000, 50)

    mapped = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    np.testing.assert_array_equal(read_rows(mapped, rows), array[rows])
    assert resident_kb(path) == 0
    np.asarray(mapped[rows])  # what the nodes did before
    assert resident_kb(path) >= len(rows) * 4


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


def test_numpy_failed_save_keeps_the_previous_file_and_no_temporary(
    tmp_path: Path, dense, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "array.npy"
    dataset = NumpyDataset(filepath=str(path))
    dataset.save(dense)
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("netflix_dec.storage.atomic.os.replace", full_disk)
    with pytest.raises(DatasetError, match="No space left"):
        dataset.save(dense[:2])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["array.npy"]


def test_numpy_dataset_supports_versioning(tmp_path: Path, dense):
    catalog = DataCatalog.from_config(
        {
            "arr": {
                "type": "netflix_dec.datasets.NumpyDataset",
                "filepath": str(tmp_path / "arr.npy"),
                "versioned": True,
            }
        }
    )
    catalog.save("arr", dense)
    np.testing.assert_array_equal(catalog.load("arr"), dense)
    (version,) = (tmp_path / "arr.npy").iterdir()
    assert (version / "arr.npy").is_file()


# ---- AtomicDataset ------------------------------------------------------------


def _csv(path: Path, **extra) -> AtomicDataset:
    return AtomicDataset(
        filepath=str(path),
        dataset={"type": "pandas.CSVDataset", "save_args": {"index": False}},
        **extra,
    )


def test_atomic_csv_round_trip_and_no_stray_files(tmp_path: Path):
    frame = pd.DataFrame({"title": ["a", "b"], "cluster": [0, 1]})
    dataset = _csv(tmp_path / "out/clusters.csv")
    assert not dataset.exists()
    dataset.save(frame)
    pd.testing.assert_frame_equal(dataset.load(), frame)
    assert dataset.exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["clusters.csv"]


@pytest.mark.parametrize(
    "failure", [OSError(28, "No space left on device"), KeyboardInterrupt()]
)
def test_atomic_failed_save_leaves_the_previous_file_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
):
    path = tmp_path / "clusters.csv"
    dataset = _csv(path)
    dataset.save(pd.DataFrame({"title": ["old"] * 100}))
    before = path.read_bytes()
    real_to_csv = pd.DataFrame.to_csv

    def dies_midway(frame, buffer, **kwargs):
        real_to_csv(frame.head(3), buffer, **kwargs)  # part of the rows are out
        raise failure

    monkeypatch.setattr(pd.DataFrame, "to_csv", dies_midway)
    with pytest.raises((DatasetError, type(failure))):
        dataset.save(pd.DataFrame({"title": ["new"] * 100}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.csv"]


def test_atomic_dataset_is_versioned_with_versioned_true(tmp_path: Path):
    config = {
        "type": "netflix_dec.datasets.AtomicDataset",
        "filepath": str(tmp_path / "summary.json"),
        "versioned": True,
        "dataset": {"type": "json.JSONDataset", "save_args": {"indent": 2}},
    }
    DataCatalog.from_config({"summary": config}).save("summary", {"run": 1})
    catalog = DataCatalog.from_config({"summary": config})
    catalog.save("summary", {"run": 2})
    assert catalog.load("summary") == {"run": 2}
    versions = sorted((tmp_path / "summary.json").iterdir())
    assert len(versions) == 2
    assert [p.name for p in versions[0].iterdir()] == ["summary.json"]


def test_atomic_versioned_failed_save_keeps_the_previous_version_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = {
        "type": "netflix_dec.datasets.AtomicDataset",
        "filepath": str(tmp_path / "clusters.csv"),
        "versioned": True,
        "dataset": "pandas.CSVDataset",
    }
    DataCatalog.from_config({"c": config}).save("c", pd.DataFrame({"a": [1]}))
    monkeypatch.setattr(
        "netflix_dec.storage.atomic.os.replace",
        lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")),
    )
    catalog = DataCatalog.from_config({"c": config})
    with pytest.raises(DatasetError):
        catalog.save("c", pd.DataFrame({"a": [2]}))
    monkeypatch.undo()
    assert DataCatalog.from_config({"c": config}).load("c")["a"].tolist() == [1]
    files = sorted(
        p.name for p in (tmp_path / "clusters.csv").rglob("*") if p.is_file()
    )
    assert files == ["clusters.csv"]


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({"type": "pandas.CSVDataset", "filepath": "x.csv"}, "put 'filepath' on"),
        ({"type": "pandas.CSVDataset", "versioned": True}, "put 'versioned' on"),
        ({"save_args": {}}, "needs a 'type'"),
    ],
)
def test_atomic_dataset_refuses_misplaced_keys(tmp_path: Path, dataset, message):
    with pytest.raises(DatasetError, match=message):
        AtomicDataset(filepath=str(tmp_path / "x.csv"), dataset=dataset)


def test_atomic_keras_model_survives_a_failed_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    keras = pytest.importorskip("keras")
    path = tmp_path / "model.keras"
    dataset = AtomicDataset(
        filepath=str(path), dataset="tensorflow.TensorFlowModelDataset"
    )
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    dataset.save(model)
    before = path.read_bytes()

    def truncated(model, filepath, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 truncated")
        raise OSError(28, "No space left on device")

    import tensorflow as tf

    monkeypatch.setattr(tf.keras.models, "save_model", truncated)
    with pytest.raises(DatasetError):
        dataset.save(model)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    reloaded = AtomicDataset(
        filepath=str(path), dataset="tensorflow.TensorFlowModelDataset"
    ).load()
    assert reloaded.output_shape == (None, 2)


# ---- SpreadsheetSafeCSVDataset ------------------------------------------------


def test_formula_cells_are_escaped_on_disk_and_read_back_unchanged(tmp_path: Path):
    frame = pd.DataFrame(
        {
            "title": ["=HYPERLINK(1)", "+1", "-x", "@SUM(A1)", "'=already", "Fine"],
            "cluster": [-1, 0, 1, 2, 3, 4],
            "x": [-0.5, 1.0, None, 2.0, 3.0, 4.0],
        }
    )
    path = tmp_path / "clusters.csv"
    dataset = SpreadsheetSafeCSVDataset(filepath=str(path), save_args={"index": False})
    dataset.save(frame)
    cells = path.read_text().splitlines()
    assert [line.split(",")[0] for line in cells[1:]] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-x",
        "'@SUM(A1)",
        "''=already",
        "Fine",
    ]
    assert cells[1].split(",")[1] == "-1"  # numbers stay numbers
    pd.testing.assert_frame_equal(dataset.load(), frame)


def test_formula_escaping_leaves_the_frame_alone_and_handles_mixed_columns(
    tmp_path: Path,
):
    # An index with repeats, numbers among the text of an object column.
    frame = pd.DataFrame(
        {"title": ["=a", "b", "=c"], "mixed": ["-1x", 5, None]}, index=[7, 7, 3]
    )
    assert frame["mixed"].dtype == object
    original = frame.copy()
    path = tmp_path / "clusters.csv"
    SpreadsheetSafeCSVDataset(filepath=str(path), save_args={"index": False}).save(
        frame
    )
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame untouched
    lines = path.read_text().splitlines()
    assert lines[1:] == ["'=a,'-1x", "b,5", "'=c,"]


def test_a_save_killed_midway_leaves_the_previous_file_byte_identical(tmp_path: Path):
    """SIGKILL during a long CSV save: the target is the previous file, whole."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "clusters.csv"
    _csv(path).save(pd.DataFrame({"title": ["previous"] * 10}))
    before = path.read_bytes()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pandas as pd, sys\n"
            "from netflix_dec.datasets import AtomicDataset\n"
            "frame = pd.DataFrame({'title': ['x' * 200] * 2_000_000})\n"
            "AtomicDataset(filepath=sys.argv[1], dataset='pandas.CSVDataset')"
            ".save(frame)\n",
            str(path),
        ]
    )
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".tmp.csv") for p in tmp_path.iterdir()):
            assert child.poll() is None, "the save ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    # The killed save's temporary file is removed by the next save.
    assert any(p.name.endswith(".tmp.csv") for p in tmp_path.iterdir())
    _csv(path).save(pd.DataFrame({"title": ["next"]}))
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.csv"]


def test_a_running_writers_temporary_file_is_left_alone(tmp_path: Path):
    import os

    in_progress = tmp_path / f".clusters.{os.getpid()}-feedbeef.tmp.csv"
    in_progress.write_text("another save of this process, still running")
    _csv(tmp_path / "clusters.csv").save(pd.DataFrame({"title": ["a"]}))
    assert in_progress.exists()


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_feature_cache_returns_stored_rows_in_the_order_asked(tmp_path: Path, kind):
    rows = np.arange(12, dtype=np.float32).reshape(4, 3)
    if kind == "sparse":
        rows = sparse.csr_matrix(rows)
    cache = FeatureCache(path=str(tmp_path / "cache"))
    assert not cache.exists() and cache.load() is cache
    cache.store(["a", "b"], rows[:2])
    cache.store(["c", "d"], rows[2:])
    lookup = FeatureCache(path=str(tmp_path / "cache")).lookup(["d", "x", "a", "c"])
    assert lookup.found.tolist() == [True, False, True, True]
    assert lookup.missing == ["x"]
    assert sparse.issparse(lookup.rows) == (kind == "sparse")
    found = lookup.rows.toarray() if kind == "sparse" else lookup.rows
    expected = np.arange(12, dtype=np.float32).reshape(4, 3)[[3, 0, 2]]
    np.testing.assert_array_equal(found, expected)
    assert found.dtype == np.float32


def test_feature_cache_stores_keys_as_bytes_and_reads_older_unicode_shards(
    tmp_path: Path,
):
    cache = FeatureCache(path=str(tmp_path / "cache"))
    shard = cache.store(["é", "b"], np.eye(2, dtype=np.float32))
    with np.load(shard) as archive:
        assert archive["keys"].dtype.kind == "S"  # a byte a character, not four
    # A shard written before keys were bytes (NumPy unicode) is still found.
    with (tmp_path / "cache" / f"older{shard.suffix}").open("wb") as file:
        np.savez(file, keys=np.array(["c"]), rows=np.full((1, 2), 7, np.float32))
    lookup = FeatureCache(path=str(tmp_path / "cache")).lookup(["c", "é"])
    assert lookup.missing == []
    np.testing.assert_array_equal(lookup.rows, [[7, 7], [1, 0]])


def test_feature_cache_writes_known_keys_once_and_cannot_be_saved(tmp_path: Path):
    cache = FeatureCache(path=str(tmp_path / "cache"))
    assert cache.store(["a"], np.ones((1, 2))) is not None
    assert cache.store(["a"], np.zeros((1, 2))) is None
    assert len(list((tmp_path / "cache").iterdir())) == 1
    np.testing.assert_array_equal(cache.lookup(["a"]).rows, np.ones((1, 2)))
    with pytest.raises(ValueError, match="2 keys for 1 rows"):
        cache.store(["b", "c"], np.ones((1, 2)))
    with pytest.raises(DatasetError, match="extended with store"):
        cache.save(np.ones((1, 2)))


def test_map_cache_returns_positions_only_under_their_key(tmp_path: Path):
    path = tmp_path / "sub" / "map_cache.npz"
    cache = MapCache(filepath=str(path))
    assert not cache.exists() and cache.load() is cache
    assert cache.lookup("a") is None
    positions = np.random.default_rng(0).normal(size=(5, 2))
    cache.store("a", positions)
    again = MapCache(filepath=str(path))
    np.testing.assert_array_equal(again.lookup("a"), positions)
    assert again.lookup("b") is None
    # One entry: a new key replaces the old one.
    again.store("b", positions[:3])
    assert cache.lookup("a") is None and cache.lookup("b").shape == (3, 2)
    with pytest.raises(DatasetError, match="store"):
        cache.save(np.zeros((1, 2)))


def test_a_failed_map_store_keeps_the_previous_entry(tmp_path: Path, monkeypatch):
    cache = MapCache(filepath=str(tmp_path / "map_cache.npz"))
    cache.store("a", np.ones((4, 2)))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match="No space"):
        cache.store("b", np.zeros((4, 2)))
    monkeypatch.undo()
    np.testing.assert_array_equal(cache.lookup("a"), np.ones((4, 2)))
    assert [f.name for f in tmp_path.iterdir()] == ["map_cache.npz"]


def test_an_unreadable_map_cache_is_a_miss(tmp_path: Path, caplog):
    path = tmp_path / "map_cache.npz"
    path.write_bytes(b"not a zip file")
    assert MapCache(filepath=str(path)).lookup("a") is None
    assert "ignoring unreadable" in caplog.text


def test_read_rows_indexes_the_map_where_the_system_has_no_preadv(
    tmp_path: Path, monkeypatch
):
    array = np.arange(40, dtype=np.float32).reshape(10, 4)
    path = tmp_path / "a.npy"
    NumpyDataset(filepath=str(path)).save(array)
    mapped = NumpyDataset(filepath=str(path), mmap_mode="r").load()
    monkeypatch.delattr("os.preadv")
    np.testing.assert_array_equal(read_rows(mapped, np.array([7, 1])), array[[7, 1]])
