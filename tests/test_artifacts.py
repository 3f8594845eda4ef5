"""Stored artifacts are checked when loaded: a cache entry that fails is dropped and
recomputed, a model or artifact file that fails stops the run naming the file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from kedro.io.core import Version
from scipy import sparse

from netflix_dec import encoders
from netflix_dec.datasets import ArtifactError, AtomicDataset
from netflix_dec.encoders import words
from netflix_dec.storage.caches import FeatureCache, MapCache

TEXTS = [
    "A detective hunts a killer in a rainy city.",
    "Two friends open a bakery in Paris.",
    "A young wizard goes to school.",
    "Astronauts are stranded on Mars.",
]


@pytest.fixture(scope="module")
def tfidf_state() -> dict:
    return words.fit_text_encoder(TEXTS, "tfidf", 50)


def _tamper(rows: np.ndarray, how: str):
    if how == "width":
        return rows[:, :5]
    if how == "int8":
        return rows.astype(np.int8)
    if how == "nan":
        rows = rows.copy()
        rows[0, 0] = np.nan
        return rows
    return rows  # "dense": a dense row where TF-IDF rows are sparse


@pytest.mark.parametrize("how", ["width", "int8", "nan", "dense"])
def test_a_feature_cache_shard_that_does_not_fit_is_dropped_and_recomputed(
    how: str, tfidf_state: dict, tmp_path: Path, caplog
):
    expected = encoders.from_settings(tfidf_state).compute(TEXTS).toarray()
    keys = encoders.row_keys(TEXTS, tfidf_state)
    cache = FeatureCache(path=str(tmp_path / "cache"))
    bad = _tamper(expected, how)
    shard = cache.store(keys, bad if how == "dense" else sparse.csr_matrix(bad))
    with caplog.at_level(logging.WARNING, logger="netflix_dec.storage.caches"):
        rows, stats = encoders.from_settings(tfidf_state).encode(TEXTS, cache)
    assert str(shard) in caplog.text and "dropping" in caplog.text
    assert not shard.exists()
    assert (stats.reused, stats.computed) == (0, len(TEXTS))
    np.testing.assert_allclose(rows.toarray(), expected, rtol=1e-6)
    # The recomputed rows were stored again, and a later run reuses them.
    _, again = encoders.from_settings(tfidf_state).encode(
        TEXTS, FeatureCache(path=cache._path)
    )
    assert again.reused == len(TEXTS)


@pytest.mark.parametrize(
    "positions",
    [
        np.array([["a", "b"]] * 3),
        np.full((3, 2), np.nan),
        np.zeros((3, 3)),
        np.zeros((2, 2)),
    ],
    ids=["strings", "nan", "three-columns", "too-few"],
)
def test_a_map_cache_entry_that_does_not_fit_is_ignored(
    positions: np.ndarray, tmp_path: Path, caplog
):
    cache = MapCache(filepath=str(tmp_path / "map_cache.npz"))
    cache.store("key", positions)
    with caplog.at_level(logging.WARNING, logger="netflix_dec.storage.caches"):
        assert cache.lookup("key", rows=3) is None
    assert "map_cache.npz" in caplog.text
    good = np.zeros((3, 2))
    cache.store("key", good)
    np.testing.assert_array_equal(cache.lookup("key", rows=3), good)


def _calibration() -> dict:
    return {
        "titles": 10,
        "n_clusters": 3,
        "features": "tfidf",
        "feature_width": 7,
        "settings_key": "a" * 64,
        "confidence_percentiles": np.linspace(0.4, 1.0, 101).tolist(),
    }


def _tampered_calibrations() -> dict[str, dict]:
    cases = {}
    for name, value in [("nan", float("nan")), ("huge", 1e308), ("negative", -0.1)]:
        broken = _calibration()
        broken["confidence_percentiles"][50] = value
        cases[name] = broken
    cases["descending"] = {
        **_calibration(),
        "confidence_percentiles": np.linspace(1.0, 0.4, 101).tolist(),
    }
    cases["100 percentiles"] = {
        **_calibration(),
        "confidence_percentiles": np.linspace(0.4, 1.0, 100).tolist(),
    }
    missing = _calibration()
    del missing["n_clusters"]
    cases["missing key"] = missing
    cases["wrong type"] = {**_calibration(), "n_clusters": "8"}
    return cases


def _catalog_dataset(name: str, root: Path) -> AtomicDataset:
    """The project's catalogue entry ``name``, rooted at ``root``."""
    import yaml

    from .conftest import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    entry = dict(config[name])
    assert entry.pop("type") == "netflix_dec.datasets.AtomicDataset"
    entry.pop("versioned", None)
    entry["filepath"] = str(root / Path(entry["filepath"]).name)
    return AtomicDataset(**entry, version=Version(None, "v1"))


@pytest.mark.parametrize("case", list(_tampered_calibrations()))
def test_a_tampered_calibration_stops_the_run_naming_the_file(case: str, tmp_path):
    dataset = _catalog_dataset("dec_calibration", tmp_path)
    dataset.save(_calibration())
    path = tmp_path / "dec_calibration.json/v1/dec_calibration.json"
    assert dataset.load() == _calibration()
    # json.dumps writes NaN, as a hand edit (or an older version) could.
    path.write_text(json.dumps(_tampered_calibrations()[case]))
    with pytest.raises(ArtifactError) as refused:
        dataset.load()
    assert str(path) in str(refused.value) and "kedro run" in str(refused.value)


def test_an_invalid_calibration_is_never_written(tmp_path):
    dataset = _catalog_dataset("dec_calibration", tmp_path)
    with pytest.raises(ArtifactError, match="Refusing to save"):
        dataset.save(_tampered_calibrations()["nan"])
    assert not (tmp_path / "dec_calibration.json/v1").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"vocabulary": None},
        {"idf": [1.0]},
        {"idf": "x"},
        {"features": "bag-of-words"},
        {"max_words": "50"},
    ],
    ids=["no-vocabulary", "short-idf", "idf-string", "unknown-kind", "string-count"],
)
def test_a_tampered_text_encoder_stops_the_run_naming_the_file(
    change: dict, tfidf_state: dict, tmp_path
):
    dataset = _catalog_dataset("text_encoder", tmp_path)
    dataset.save(tfidf_state)
    assert dataset.load() == tfidf_state
    path = tmp_path / "text_encoder.json/v1/text_encoder.json"
    broken = {**tfidf_state, **change}
    broken = {key: value for key, value in broken.items() if value is not None}
    path.write_text(json.dumps(broken))
    with pytest.raises(ArtifactError, match="TextEncoderState") as refused:
        dataset.load()
    assert str(path) in str(refused.value)


def test_a_keras_file_that_is_not_a_zip_is_named(tmp_path):
    dataset = _catalog_dataset("dec_model", tmp_path)
    path = tmp_path / "dec_model.keras/v1/dec_model.keras"
    path.parent.mkdir(parents=True)
    path.write_text("not a model")
    with pytest.raises(ArtifactError) as refused:
        dataset.load()
    message = str(refused.value)
    assert str(path) in message and "not a Keras model file" in message
    assert "kedro_tensorflow_tmp" not in message
