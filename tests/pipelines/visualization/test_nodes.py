"""visualization nodes: projection, the seaborn map and the explorer page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from netflix_dec.params import VisualizationParams
from netflix_dec.pipelines.visualization import nodes

N = 150


def params(**changes) -> VisualizationParams:
    base = {
        "projection_source": "dec_embeddings",
        "perplexity": 10,
        "max_iter": 250,
        "max_points": 1000,
        "seed": 0,
    }
    return VisualizationParams(**(base | changes))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], N // 3)
    embeddings = (rng.normal(size=(N, 5)) + labels[:, None] * 6).astype(np.float32)
    features = sparse.random(
        N, 400, density=0.05, format="csr", random_state=0, dtype=np.float32
    )
    clusters = pd.DataFrame(
        {
            "show_id": [f"s{i}" for i in range(N)],
            "title": [f"Title {i}" for i in range(N)],
            "cluster": labels,
            "confidence": np.full(N, 0.9),
        }
    )
    titles = clusters[["show_id", "title"]].assign(
        director="Someone",
        release_year=2020,
        listed_in="Dramas",
        description="A story.",
    )
    summary = {
        "clusters": [
            {"cluster": c, "top_words": [f"word{c}", "more", "words", "extra"]}
            for c in range(4)
        ]
    }
    return clusters, embeddings, features, titles, summary


def test_projection_covers_every_title_and_keeps_clusters_apart(data):
    clusters, embeddings, features, *_ = data
    projection = nodes.project_2d(clusters, embeddings, embeddings, features, params())
    assert projection["show_id"].tolist() == clusters["show_id"].tolist()
    centres = projection[["x", "y"]].groupby(clusters["cluster"]).mean().to_numpy()
    spread = projection[["x", "y"]].groupby(clusters["cluster"]).std().to_numpy().max()
    assert np.linalg.norm(centres[0] - centres[1]) > 2 * spread


def test_large_catalogues_are_projected_on_a_seeded_sample(data):
    clusters, embeddings, features, *_ = data
    first = nodes.project_2d(
        clusters, embeddings, embeddings, features, params(max_points=100)
    )
    second = nodes.project_2d(
        clusters, embeddings, embeddings, features, params(max_points=100)
    )
    assert len(first) == 100 and first["show_id"].is_unique
    assert first["show_id"].tolist() == second["show_id"].tolist()


def test_sparse_features_can_be_projected_as_the_notebook_did(data):
    clusters, embeddings, features, *_ = data
    projection = nodes.project_2d(
        clusters, embeddings, embeddings, features, params(projection_source="features")
    )
    assert len(projection) == N and np.isfinite(projection[["x", "y"]].to_numpy()).all()


def test_projection_refuses_rows_from_another_run(data):
    clusters, embeddings, features, *_ = data
    with pytest.raises(
        ValueError, match="dec_embeddings has 149 rows but there are 150"
    ):
        nodes.project_2d(clusters, embeddings[:-1], embeddings, features, params())


def test_cluster_map_has_a_legend_entry_per_cluster_with_its_words(data):
    clusters, embeddings, features, _, summary = data
    projection = nodes.project_2d(clusters, embeddings, embeddings, features, params())
    figure = nodes.plot_cluster_map(projection, clusters, summary, params())
    axis = figure.axes[0]
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == [
        "0: word0, more, words",
        "1: word1, more, words",
        "2: word2, more, words",
    ]
    assert "3 DEC clusters" in axis.get_title()
    assert axis.get_xlabel() == "t-SNE 1"


def test_explorer_page_holds_every_projected_title(data):
    clusters, embeddings, features, titles, summary = data
    projection = nodes.project_2d(
        clusters, embeddings, embeddings, features, params(max_points=120)
    )
    html = nodes.build_explorer_html(
        projection, clusters, titles, summary, params(max_points=120)
    )
    assert sum(f'"Title {i}"' in html for i in range(N)) == 120
    assert "120 of 150 titles" in html
