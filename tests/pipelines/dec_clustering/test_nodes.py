"""dec_clustering nodes: assignments, summaries, metrics and parameter checks."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from netflix_dec import batching, dec, naming
from netflix_dec.params import DecClusteringParams
from netflix_dec.pipelines.dec_clustering import nodes

BASE = {
    "n_clusters": 2,
    "variant": "idec",
    "gamma": 0.1,
    "alpha": 1.0,
    "batch_size": 8,
    "maxiter": 20,
    "update_interval": 10,
    "tol": 0.001,
    "learning_rate": 0.01,
    "momentum": 0.9,
    "kmeans_n_init": 3,
    "guard": "silhouette",
    "silhouette_sample": 1000,
    "top_words": 3,
    "examples": 2,
    "seed": 0,
}

TITLES = pd.DataFrame(
    {
        "show_id": ["s1", "s2", "s3", "s4"],
        "title": ["Ghost Hunt", "Haunted Inn", "Goal!", "Final Whistle"],
        "description": [
            "A ghost haunts the old inn",
            "The ghost of the inn haunts a family",
            "A striker scores the winning goal",
            "The striker and the team chase the goal",
        ],
        "listed_in": [
            "Horror Movies, International Movies",
            "Horror Movies",
            "Sports Movies, Independent Movies",
            "Sports Movies",
        ],
    }
)
Q = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]], dtype=np.float32)


def params(**changes) -> DecClusteringParams:
    return DecClusteringParams(**(BASE | changes))


def test_assignments_take_the_most_likely_cluster_and_its_probability():
    clusters = nodes.assign_clusters(TITLES, Q)
    assert clusters["cluster"].tolist() == [0, 0, 1, 1]
    assert clusters["confidence"].tolist() == pytest.approx([0.9, 0.8, 0.7, 0.9])
    assert clusters["show_id"].tolist() == TITLES["show_id"].tolist()


def test_assignments_refuse_a_length_mismatch():
    with pytest.raises(ValueError, match="4 titles but 3 soft assignments"):
        nodes.assign_clusters(TITLES, Q[:3])


def test_summary_names_distinctive_words_genres_and_examples():
    clusters = nodes.assign_clusters(TITLES, Q)
    summary = nodes.summarize_clusters(TITLES, clusters, params())["clusters"]
    assert [item["size"] for item in summary] == [2, 2]
    assert set(summary[0]["top_words"]) >= {"ghost", "haunts", "inn"}
    assert set(summary[1]["top_words"]) >= {"striker", "goal"}
    assert "the" not in summary[0]["top_words"]
    assert list(summary[0]["top_genres"])[0] == "Horror Movies"
    # Named by its words and its commonest genre that is not a broad tag.
    assert summary[1]["name"].endswith(" · Sports Movies")
    assert summary[1]["name"].split(" · ")[0] == ", ".join(summary[1]["top_words"][:3])
    assert summary[1]["examples"] == ["Final Whistle", "Goal!"]


def test_an_empty_cluster_is_reported_with_size_zero():
    clusters = nodes.assign_clusters(TITLES, Q)
    summary = nodes.summarize_clusters(TITLES, clusters, params(n_clusters=3))[
        "clusters"
    ]
    assert summary[2] == {
        "cluster": 2,
        "name": "",
        "size": 0,
        "top_words": [],
        "top_genres": {},
        "examples": [],
        # No names file: the generated name (none here) is the name.
        "generated_name": "",
        "named_by": "generated",
    }


def test_metrics_compare_start_and_final_against_weak_genres():
    clusters = nodes.assign_clusters(TITLES, Q)
    embeddings = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    report = nodes.evaluate_clustering(
        TITLES,
        clusters,
        np.array([0, 1, 0, 1]),
        embeddings,
        embeddings,
        {"iterations": 20, "stop_reason": "maxiter", "kept_start": False},
        params(),
    )
    assert report["final"]["nmi"] == pytest.approx(1.0)
    # What DEC earned: half the titles moved, NMI from 0 to 1.
    assert report["dec"]["moved"] == pytest.approx(0.5)
    assert report["dec"]["nmi_gain"] == pytest.approx(1.0)
    assert report["dec"]["kept_start"] is False
    assert report["final"]["accuracy"] == pytest.approx(1.0)
    assert report["kmeans_start"]["nmi"] == pytest.approx(0.0)
    assert report["final"]["non_empty_clusters"] == 2
    assert report["final"]["silhouette"] > 0.8
    assert report["weak_label_classes"] == 2


def test_no_word_names_more_than_two_clusters_top_three():
    # "story" and "life" are in every description; each cluster has its own word.
    own = ["ghost", "goal", "heist", "wedding", "alien", "dragon"]
    descriptions = pd.Series(
        [
            f"A life story of the {word} and the {word} {i}"
            for word in own
            for i in range(5)
        ]
    )
    clusters = np.repeat(np.arange(len(own)), 5)
    words = naming.distinctive_words(descriptions, clusters, len(own), top_words=4)
    for cluster, word in enumerate(own):
        assert words[cluster][0] == word
    top_three = [w for cluster in words.values() for w in cluster[:3]]
    assert max(top_three.count(w) for w in set(top_three)) <= naming.TOP_THREE_SHARE


def test_train_dec_on_the_features_reports_what_dec_moved_and_kept():
    from netflix_dec import dec

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 6)) * 5
    x = (centres[np.repeat([0, 1], 20)] + rng.normal(size=(40, 6))).astype(np.float32)
    embedding = dec.build_feature_embedding(6)
    *_, start, record = nodes.train_dec(embedding, x, params())
    assert start.shape == (40,)
    assert record["moved"] == 0.0 and record["kept_start"] is True
    assert record["outcome"].startswith("Kept the KMeans start")
    assert record["variant"] == "idec" and record["guard"] == "silhouette"


def test_train_dec_checks_n_clusters_against_the_titles_before_training():
    autoencoder, _ = dec.build_autoencoder([6, 4, 2])
    with pytest.raises(ValueError, match=r"number of titles \(4\), got 5"):
        nodes.train_dec(autoencoder, np.zeros((4, 6), np.float32), params(n_clusters=5))


def test_train_dec_returns_consistent_outputs():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (20, 6)), rng.normal(3, 0.3, (20, 6))]).astype(
        np.float32
    )
    autoencoder, _ = dec.build_autoencoder([6, 4, 2], seed=0)
    model, q, z, start, record = nodes.train_dec(autoencoder, x, params())
    assert q.shape == (40, 2) and z.shape == (40, 2) and start.shape == (40,)
    np.testing.assert_allclose(batching.predict(model, x), q, rtol=1e-5, atol=1e-6)
    # z is the trained encoder's embedding, the input of the clustering layer.
    encoder = keras.Model(model.input, model.get_layer("embedding").output)
    np.testing.assert_allclose(batching.predict(encoder, x), z, rtol=1e-5, atol=1e-6)
    assert record["stop_reason"] in {"tol", "maxiter"}
    assert record["updates"][0]["iteration"] == 0
    # No loss before the first step: null in dec_training.json, which stays
    # valid JSON (no NaN); every later update has the step's loss.
    assert record["updates"][0]["loss"] is None
    assert len(record["updates"]) > 1
    assert all(np.isfinite(u["loss"]) for u in record["updates"][1:])
    json.dumps(record, allow_nan=False)


def test_train_dec_starts_from_the_encoding_pipelines_embeddings(tmp_path, monkeypatch):
    """Given the embeddings, DEC skips its own pass and ends where the pass would."""
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (20, 6)), rng.normal(3, 0.3, (20, 6))]).astype(
        np.float32
    )

    def autoencoder() -> keras.Model:  # the same weights each time
        return dec.build_autoencoder([6, 4, 2], seed=0)[0]

    # As the catalogue's NumpyDataset loads them: a read-only memory map.
    np.save(
        tmp_path / "embeddings.npy", batching.predict(dec.encoder_of(autoencoder()), x)
    )
    embeddings = np.load(tmp_path / "embeddings.npy", mmap_mode="r")
    before = np.array(embeddings)
    predicted = []
    predict = batching.predict
    monkeypatch.setattr(
        batching,
        "predict",
        lambda m, *a, **k: predicted.append(m.name) or predict(m, *a, **k),
    )
    given = nodes.train_dec(autoencoder(), x, params(), None, embeddings)
    # The encoder ran once, for DEC's final embedding: the start read the file.
    assert predicted.count("encoder") == 1
    predicted.clear()
    passed = nodes.train_dec(autoencoder(), x, params())
    assert predicted.count("encoder") == 2  # without them, a pass for the start
    np.testing.assert_array_equal(given[3], passed[3])  # the same KMeans start
    np.testing.assert_allclose(given[1], passed[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(embeddings, before)  # the input is not changed
    # An embedding that is not of these titles (another run's) is refused.
    with pytest.raises(ValueError, match=r"shape \(39, 2\) but there are 40 titles"):
        nodes.train_dec(autoencoder(), x, params(), None, before[:39])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_clusters": 1}, "n_clusters"),
        ({"tol": 1.0}, "tol"),
        ({"tol": -0.01}, "tol"),
        ({"batch_size": 0}, "batch_size"),
        ({"update_interval": 0}, "update_interval"),
        ({"maxiter": 0}, "maxiter"),
        ({"variant": "kmeans"}, "variant"),
        ({"n_clusters": "abc"}, "valid integer"),
    ],
)
def test_bad_parameters_are_rejected(changes, message):
    with pytest.raises(ValidationError, match=message):
        params(**changes)


def test_a_cluster_is_named_by_its_most_telling_common_genre():
    catalogue = pd.Series({"Dramas": 0.5, "Thrillers": 0.1, "Comedies": 0.3})
    # Dramas is commonest here but as common everywhere; Thrillers sets it apart.
    counts = pd.Series({"International Movies": 9, "Dramas": 5, "Thrillers": 3})
    assert naming.cluster_genre(counts, 10, catalogue) == "Thrillers"
    # A genre too rare in the cluster does not name it, however telling.
    counts = pd.Series({"Dramas": 6, "Thrillers": 1})
    assert naming.cluster_genre(counts, 10, catalogue) == "Dramas"
    assert naming.cluster_genre(pd.Series({"Movies": 4}), 4, catalogue) == "Movies"
    assert naming.cluster_name(["cop", "police", "heist"], "Thrillers") == (
        "cop, police, heist · Thrillers"
    )


def test_a_kept_start_in_an_unchanged_embedding_reuses_its_silhouette(monkeypatch):
    clusters = nodes.assign_clusters(TITLES, Q)
    labels = clusters["cluster"].to_numpy()
    embeddings = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    calls = []
    import sklearn.metrics

    real = sklearn.metrics.silhouette_score
    monkeypatch.setattr(
        sklearn.metrics,
        "silhouette_score",
        lambda points, *args, **kwargs: (
            calls.append(points) or real(points, *args, **kwargs)
        ),
    )
    training = {"iterations": 0, "stop_reason": "tol", "kept_start": True}
    kept = nodes.evaluate_clustering(
        TITLES, clusters, labels, embeddings, embeddings.copy(), training, params()
    )
    assert len(calls) == 1
    assert kept["final"]["silhouette"] == kept["kmeans_start"]["silhouette"] > 0.8
    # Rounding (KMeans centring its input in place) is still the same points.
    rounded = embeddings + np.float32(1.5e-8) * np.array([[1, -1]], np.float32)
    rounded[2, 0] = np.nextafter(np.float32(5), np.float32(6))
    assert not np.array_equal(rounded, embeddings)
    again = nodes.evaluate_clustering(
        TITLES, clusters, labels, embeddings, rounded, training, params()
    )
    assert len(calls) == 2
    assert again["final"]["silhouette"] == again["kmeans_start"]["silhouette"]
    calls.pop()
    # DEC moved its embedding: both are measured, each in its own.
    moved = embeddings + np.array([[0, 0], [0, 0], [0, 0], [-5, -6]], np.float32)
    report = nodes.evaluate_clustering(
        TITLES, clusters, labels, embeddings, moved, training, params()
    )
    assert len(calls) == 3
    assert report["final"]["silhouette"] < report["kmeans_start"]["silhouette"]


def test_silhouettes_read_only_their_sample_of_memory_mapped_embeddings(
    tmp_path, monkeypatch
):
    n = 40
    titles = pd.DataFrame(
        {
            "show_id": [f"s{i}" for i in range(n)],
            "title": [f"T{i}" for i in range(n)],
            "description": "x",
            "listed_in": np.where(np.arange(n) < n // 2, "Dramas", "Comedies"),
        }
    )
    labels = (np.arange(n) >= n // 2).astype(int)
    q = np.eye(2, dtype=np.float32)[labels]
    clusters = nodes.assign_clusters(titles, q)
    points = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    points[:, 0] += 8 * labels
    np.save(tmp_path / "e.npy", points)
    mapped = np.load(tmp_path / "e.npy", mmap_mode="r")
    seen = []
    import sklearn.metrics

    real = sklearn.metrics.silhouette_score
    monkeypatch.setattr(
        sklearn.metrics,
        "silhouette_score",
        lambda x, *args, **kwargs: seen.append(len(x)) or real(x, *args, **kwargs),
    )
    training = {"iterations": 0, "stop_reason": "tol", "kept_start": True}
    report = nodes.evaluate_clustering(
        titles, clusters, labels, mapped, mapped, training, params(silhouette_sample=10)
    )
    assert seen == [10] and report["final"]["silhouette"] > 0.5


def test_stability_is_reported_only_when_asked_and_sees_ambiguity():
    clusters = nodes.assign_clusters(TITLES, Q)
    embeddings = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    args = (
        TITLES,
        clusters,
        np.array([0, 0, 1, 1]),
        embeddings,
        embeddings,
        {"iterations": 20, "stop_reason": "maxiter", "kept_start": False},
    )
    assert "stability" not in nodes.evaluate_clustering(*args, params())
    report = nodes.evaluate_clustering(*args, params(stability_seeds=3))
    assert report["stability"]["seeds"] == [0, 1, 2]
    assert report["stability"]["mean_ari"] == pytest.approx(1.0)
    # Points on a ring have no two clusters that every seed finds.
    angle = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    ring = np.column_stack([np.cos(angle), np.sin(angle)]).astype(np.float32)
    scores = nodes.seed_stability(ring, params(n_clusters=6, stability_seeds=4))
    assert scores["mean_ari"] < 0.9


def test_one_stability_seed_is_refused():
    with pytest.raises(ValidationError, match="stability_seeds=1 compares nothing"):
        params(stability_seeds=1)
