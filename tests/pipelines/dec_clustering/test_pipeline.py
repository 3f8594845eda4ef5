"""The default configuration on the planted-genre sample: clusters, DEC's report, names.

One run of data_processing → encoding → dec_clustering with the base parameters
(sentence features, no autoencoder, DEC with its guard), 8 clusters for the 8
planted genres, shared by the tests of this module.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR
from netflix_dec.sample import THEMES
from tests.conftest import make_project_copy
from tests.support import latest

pytestmark = pytest.mark.slow
N_GENRES = len(THEMES)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[Path, str]:
    """A scratch project after the default run, and what the nodes logged."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = make_project_copy(tmp_path_factory.mktemp("default"))
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(logging.INFO)
    # Added after the session configured logging, which replaces handlers.
    logger = logging.getLogger("netflix_dec.pipelines.dec_clustering.nodes")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VAR, raising=False)
        patch.chdir(root)
        bootstrap_project(root)
        with KedroSession.create(
            project_path=root,
            runtime_params={"dec_clustering": {"n_clusters": N_GENRES}},
        ) as session:
            logger.addHandler(handler)
            try:
                session.run(
                    pipeline_names=["data_processing", "encoding", "dec_clustering"]
                )
            finally:
                logger.removeHandler(handler)
    return root, "\n".join(records)


def _json(root: Path, name: str) -> dict:
    path = latest(root / "data/08_reporting" / name)  # reports are versioned
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_default_recovers_the_planted_genres(default_run):
    metrics = _json(default_run[0], "clustering_metrics.json")
    assert metrics["weak_label_classes"] == N_GENRES
    assert metrics["final"]["nmi"] >= 0.95, metrics
    assert metrics["final"]["non_empty_clusters"] == N_GENRES


def test_decs_reported_gain_matches_the_metrics_it_writes(default_run):
    root, log = default_run
    metrics = _json(root, "clustering_metrics.json")
    training = _json(root, "dec_training.json")
    gain = metrics["final"]["nmi"] - metrics["kmeans_start"]["nmi"]
    assert metrics["dec"]["nmi_gain"] == pytest.approx(gain, abs=1e-12)
    assert metrics["dec"]["moved"] == pytest.approx(training["moved"], abs=1e-4)
    assert metrics["dec"]["kept_start"] == training["kept_start"]
    if training["kept_start"]:
        assert training["moved"] == 0 and gain == 0
    assert f"DEC's gain {gain:+.4f}" in log
    assert training["outcome"] in log
    clusters = pd.read_csv(root / "data/07_model_output/clusters.csv")
    start = np.load(root / "data/07_model_output/kmeans_start_labels.npy")
    assert (clusters["cluster"] != start).mean() == pytest.approx(training["moved"])


def test_each_planted_genres_vocabulary_names_its_cluster(default_run):
    root, _ = default_run
    summary = _json(root, "cluster_summary.json")["clusters"]
    clusters = pd.read_csv(root / "data/07_model_output/clusters.csv")
    titles = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    planted = titles["listed_in"].str.split(",").str[0]
    for theme in THEMES:
        genre = theme.movie_genre
        cluster = clusters["cluster"][planted == genre].mode()[0]
        item = summary[cluster]
        vocabulary = {
            word
            for field in (theme.people, theme.nouns, theme.verbs, theme.adjectives)
            for word in field
        }
        assert set(item["top_words"][:3]) <= vocabulary, (genre, item["top_words"])
        assert item["name"] == f"{', '.join(item['top_words'][:3])} · {genre}"
