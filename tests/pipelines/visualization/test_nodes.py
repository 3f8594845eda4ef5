"""visualization nodes: the points table, its checks, the map and the explorer page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from netflix_dec import points as points_table
from netflix_dec.params import VisualizationParams
from netflix_dec.pipelines.visualization import nodes
from netflix_dec.storage.caches import MapCache

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
            {
                "cluster": c,
                "size": N // 3,
                "top_words": [f"word{c}", "more", "words", "x"],
            }
            for c in range(3)
        ]
        + [{"cluster": 3, "size": 0, "top_words": []}]
    }
    return clusters, embeddings, features, titles, summary


def _points(data, **changes):
    clusters, embeddings, features, titles, summary = data
    return nodes.build_points(
        clusters, titles, summary, embeddings, embeddings, features, params(**changes)
    )


@pytest.fixture(scope="module")
def table(data):
    return _points(data)


def test_points_cover_every_title_and_keep_clusters_apart(data, table):
    clusters = data[0]
    frame, meta = points_table.from_record(table)
    assert frame["show_id"].tolist() == clusters["show_id"].tolist()
    assert meta["titles"] == N and meta["sampled"] is False and meta["n_clusters"] == 4
    assert meta["skipped"] is None and "openTSNE" in meta["method"]
    centres = frame[["x", "y"]].groupby(frame["cluster"]).mean().to_numpy()
    spread = frame[["x", "y"]].groupby(frame["cluster"]).std().to_numpy().max()
    assert np.linalg.norm(centres[0] - centres[1]) > 2 * spread
    assert frame["description"].eq("A story.").all() and not frame["new"].any()


def test_large_catalogues_are_projected_on_a_seeded_sample(data):
    first, meta = points_table.from_record(_points(data, max_points=100))
    second, _ = points_table.from_record(_points(data, max_points=100))
    assert len(first) == 100 and first["show_id"].is_unique and meta["sampled"]
    assert first["show_id"].tolist() == second["show_id"].tolist()
    np.testing.assert_allclose(first[["x", "y"]], second[["x", "y"]], atol=1e-4)


def test_sparse_features_can_be_projected_as_the_notebook_did(data):
    frame, _ = points_table.from_record(_points(data, projection_source="features"))
    assert len(frame) == N and np.isfinite(frame[["x", "y"]].to_numpy()).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c, e, t, s: (c.head(1), e, t, s),
            r"clusters \(1 titles\) and clean_titles \(150 titles\) come from different runs",
        ),
        (
            lambda c, e, t, s: (c, e[:-1], t, s),
            "dec_embeddings has 149 rows but there are 150 clustered titles",
        ),
        (
            lambda c, e, t, s: (
                c,
                e,
                t.assign(show_id=t["show_id"][::-1].to_numpy()),
                s,
            ),
            "the order differs",
        ),
        (
            lambda c, e, t, s: (c, e, t, {"clusters": s["clusters"][:1]}),
            "cluster_summary counts 50 titles but clusters has 150",
        ),
    ],
)
def test_inputs_of_different_runs_are_refused(data, change, message):
    clusters, embeddings, features, titles, summary = data
    clusters, embeddings, titles, summary = change(
        clusters, embeddings, titles, summary
    )
    with pytest.raises(nodes.MixedRunsError, match=message):
        nodes.build_points(
            clusters, titles, summary, embeddings, embeddings, features, params()
        )


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (np.ones((200, 10), dtype=np.float32), "all 200 titles have the same input"),
        (np.zeros((3, 4), dtype=np.float32), "needs at least 5 titles, got 3"),
        (np.full((20, 4), np.nan, dtype=np.float32), "NaN or infinite"),
    ],
)
def test_degenerate_inputs_skip_the_map_and_say_why(rows, reason):
    n = len(rows)
    clusters = pd.DataFrame(
        {
            "show_id": [f"s{i}" for i in range(n)],
            "title": [f"T{i}" for i in range(n)],
            "cluster": np.arange(n) % 2,
            "confidence": 0.5,
        }
    )
    titles = clusters[["show_id", "title"]].assign(description="same")
    summary = {
        "clusters": [
            {
                "cluster": c,
                "size": int((clusters["cluster"] == c).sum()),
                "top_words": [],
            }
            for c in range(2)
        ]
    }
    record = nodes.build_points(clusters, titles, summary, rows, rows, rows, params())
    frame, meta = points_table.from_record(record)
    assert reason in meta["skipped"]
    assert frame["x"].isna().all() and len(frame) == n
    figure = nodes.plot_cluster_map(record)
    shown = " ".join(t.get_text() for t in figure.axes[0].texts)
    assert f"No t-SNE map: {meta['skipped']}" in shown
    assert reason in nodes.build_explorer_html(record)


def test_map_and_explorer_share_one_label_format(table):
    figure = nodes.plot_cluster_map(table)
    axis = figure.axes[0]
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == [
        "0 · word0, more, words",
        "1 · word1, more, words",
        "2 · word2, more, words",
    ]
    assert "3 DEC clusters" in axis.get_title()
    assert axis.get_xlabel() == "t-SNE 1"
    html = nodes.build_explorer_html(table)
    for label in labels:  # JSON inside the page may escape the middle dot
        assert label in html or json.dumps(label)[1:-1] in html


def test_dollar_signs_in_labels_stay_literal(data):
    clusters, embeddings, features, titles, summary = data
    summary = {
        "clusters": [
            item | {"top_words": ["costs $5 to $10"]} if item["cluster"] == 0 else item
            for item in summary["clusters"]
        ]
    }
    record = nodes.build_points(
        clusters, titles, summary, embeddings, embeddings, features, params()
    )
    figure = nodes.plot_cluster_map(record)
    figure.canvas.draw()  # mathtext would fail or italicise here
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "0 · costs $5 to $10" in legend


def test_explorer_page_holds_every_sampled_title(data):
    record = _points(data, max_points=120)
    html = nodes.build_explorer_html(record)
    assert sum(f'"Title {i}"' in html for i in range(N)) == 120
    assert "a random sample of 120" in html


def test_new_titles_land_next_to_their_nearest_training_titles(data, table):
    clusters, embeddings, features, _, _ = data
    near = [5, 60, 140]  # one title of each cluster
    new_embeddings = embeddings[near] + 0.01
    assigned = pd.DataFrame(
        {
            "show_id": ["n1", "n2", "n3"],
            "title": ["New A", "New B", "New C"],
            "cluster": clusters["cluster"].to_numpy()[near],
            "confidence": [0.8, 0.7, 0.6],
        }
    )
    new_titles = assigned[["show_id", "title"]].assign(description="New one.")
    record = nodes.place_new_titles(
        table,
        assigned,
        new_titles,
        features[near],
        new_embeddings,
        embeddings,
        features,
    )
    frame, meta = points_table.from_record(record)
    assert meta["new_titles"] == 3 and meta["new_skipped"] is None
    old, new = frame[~frame["new"]], frame[frame["new"]]
    before, _ = points_table.from_record(table)
    np.testing.assert_array_equal(old[["x", "y"]], before[["x", "y"]])  # map unmoved
    for (_, placed), row in zip(new.iterrows(), near, strict=True):
        cluster = clusters["cluster"][row]
        own = old.loc[old["cluster"] == cluster, ["x", "y"]].to_numpy()
        others = old.loc[old["cluster"] != cluster, ["x", "y"]].to_numpy()
        point = placed[["x", "y"]].to_numpy(dtype=float)
        assert (
            np.linalg.norm(own - point, axis=1).min()
            < np.linalg.norm(others - point, axis=1).min()
        )
    html = nodes.build_explorer_html(record)
    assert "with 3 new titles placed on the map" in html
    assert "New B" in html and "new titles (3)" in html


def test_new_titles_of_a_map_made_of_pretrained_embeddings_are_listed_unplaced(data):
    clusters, embeddings, features, _, _ = data
    record = _points(data, projection_source="embeddings")
    assigned = clusters.head(2).assign(show_id=["n1", "n2"])
    record = nodes.place_new_titles(
        record, assigned, assigned, features[:2], embeddings[:2], embeddings, features
    )
    frame, meta = points_table.from_record(record)
    assert "pretrained embeddings" in meta["new_skipped"]
    assert frame.loc[frame["new"], "x"].isna().all()
    assert "2 of 2 new titles not placed" in nodes.build_explorer_html(record)


def _points_cached(data, cache, embeddings=None, **changes):
    clusters, stored, features, titles, summary = data
    embeddings = stored if embeddings is None else embeddings
    return nodes.build_points(
        clusters,
        titles,
        summary,
        embeddings,
        embeddings,
        features,
        params(**changes),
        cache,
    )


def test_an_unchanged_map_is_reused_and_a_changed_one_refitted(
    data, table, tmp_path, monkeypatch, caplog
):
    cache = MapCache(filepath=str(tmp_path / "map_cache.npz"))
    fitted, _ = points_table.from_record(_points_cached(data, cache))
    # The cache changes nothing about the map itself.
    expected, _ = points_table.from_record(table)
    np.testing.assert_allclose(fitted[["x", "y"]], expected[["x", "y"]], atol=1e-4)
    assert "Reused" not in caplog.text

    fits = []
    real_fit = nodes.projection.fit
    monkeypatch.setattr(
        nodes.projection,
        "fit",
        lambda *args, **kwargs: fits.append(args) or real_fit(*args, **kwargs),
    )
    caplog.clear()
    with caplog.at_level("INFO"):
        reused, _ = points_table.from_record(_points_cached(data, cache))
    assert fits == [] and "Reused the t-SNE map of 150 titles" in caplog.text
    np.testing.assert_array_equal(reused[["x", "y"]], fitted[["x", "y"]])

    # One row moved a little: a new map, which then replaces the stored one.
    moved = data[1].copy()
    moved[0] += 0.5
    caplog.clear()
    with caplog.at_level("INFO"):
        refitted, _ = points_table.from_record(
            _points_cached(data, cache, embeddings=moved)
        )
    assert len(fits) == 1 and "Reused" not in caplog.text
    assert not np.array_equal(refitted[["x", "y"]], fitted[["x", "y"]])
    _points_cached(data, cache, embeddings=moved)
    assert len(fits) == 1

    # A setting that changes the map refits too.
    _points_cached(data, cache, embeddings=moved, max_iter=300)
    assert len(fits) == 2
