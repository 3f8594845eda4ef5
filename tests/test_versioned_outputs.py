"""Trained models and modelling reports are versioned: earlier runs stay on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from netflix_dec.settings import CONFIG_LOADER_ARGS
from tests.support import latest

from .conftest import make_project_copy

VERSIONED = {
    "text_encoder",
    "autoencoder",
    "dec_model",
    "dec_calibration",
    "pretraining_history",
    "dec_training",
    "cluster_summary",
    "clustering_metrics",
    "model_selection_report",
    # Continuity: each run's cluster numbers, what changed and its figure, and
    # the same identities read back as the run a new one follows.
    "cluster_identities",
    "previous_cluster_identities",
    "previous_autoencoder",
    "cluster_changes",
    "cluster_changes_plot",
}
FIRST, SECOND = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"


@pytest.fixture
def catalog_conf(tmp_path: Path, monkeypatch) -> dict:
    root = make_project_copy(tmp_path)
    monkeypatch.chdir(root)  # catalogue paths are relative to the project
    loader = OmegaConfigLoader(conf_source=str(root / "conf"), **CONFIG_LOADER_ARGS)
    return loader["catalog"]


def test_models_and_modelling_reports_are_versioned(catalog_conf: dict):
    versioned = {name for name, conf in catalog_conf.items() if conf.get("versioned")}
    assert versioned == VERSIONED


def test_a_second_run_keeps_the_first_runs_report_and_loads_the_newest(
    catalog_conf: dict,
):
    entry = {"clustering_metrics": catalog_conf["clustering_metrics"]}
    DataCatalog.from_config(entry, save_version=FIRST).save(
        "clustering_metrics", {"n_clusters": 8}
    )
    DataCatalog.from_config(entry, save_version=SECOND).save(
        "clustering_metrics", {"n_clusters": 20}
    )
    folder = Path("data/08_reporting/clustering_metrics.json")
    assert sorted(p.name for p in folder.iterdir()) == [FIRST, SECOND]
    assert DataCatalog.from_config(entry).load("clustering_metrics") == {
        "n_clusters": 20
    }
    pinned = DataCatalog.from_config(entry, load_versions={"clustering_metrics": FIRST})
    assert pinned.load("clustering_metrics") == {"n_clusters": 8}
    assert latest(folder) == folder / SECOND / "clustering_metrics.json"


@pytest.mark.slow
def test_a_keras_model_is_versioned_through_the_atomic_wrapper(catalog_conf: dict):
    import keras
    import numpy as np

    entry = {"autoencoder": catalog_conf["autoencoder"]}
    for version, width in ((FIRST, 3), (SECOND, 5)):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(width, name="embedding")(inputs))
        DataCatalog.from_config(entry, save_version=version).save("autoencoder", model)
    newest = DataCatalog.from_config(entry).load("autoencoder")
    first = DataCatalog.from_config(entry, load_versions={"autoencoder": FIRST}).load(
        "autoencoder"
    )
    x = np.zeros((1, 4), dtype="float32")
    assert newest.predict(x, verbose=0).shape == (1, 5)
    assert first.predict(x, verbose=0).shape == (1, 3)
