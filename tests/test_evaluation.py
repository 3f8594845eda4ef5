"""Weak genre labels and agreement scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netflix_dec.evaluation import agreement, hungarian_accuracy, weak_genre_labels


def test_weak_label_is_the_rarest_specific_genre():
    listed_in = pd.Series(
        [
            "Dramas, International Movies, Romantic Movies",
            "Dramas",
            "Dramas, Comedies",
            "Comedies, Romantic Movies",
            "International Movies",
            "Independent Movies, International Movies",
        ]
    )
    # Frequencies: Dramas 3, Comedies 2, Romantic Movies 2 (ties break by name).
    assert weak_genre_labels(listed_in).tolist() == [
        "Romantic Movies",
        "Dramas",
        "Comedies",
        "Comedies",
        "International Movies",
        "Independent Movies",
    ]


def test_hungarian_accuracy_matches_clusters_to_labels_one_to_one():
    truth = np.array(["a", "a", "b", "b", "c", "c"])
    assert hungarian_accuracy(truth, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert hungarian_accuracy(truth, np.array([0, 0, 0, 0, 1, 1])) == pytest.approx(
        4 / 6
    )


def test_agreement_reports_nmi_ari_and_accuracy():
    scores = agreement(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))
    assert scores == pytest.approx({"nmi": 1.0, "ari": 1.0, "accuracy": 1.0})
    random = agreement(np.array([0, 1] * 50), np.array([0] * 50 + [1] * 50))
    assert random["nmi"] < 0.05 and random["accuracy"] == 0.5


def test_the_row_sampler_draws_the_rows_every_sample_drew_before():
    from netflix_dec.evaluation import sample_rows

    # The four samplers it replaced: sorted default_rng(seed).choice without
    # replacement above the size, every row at or below it.
    expected = np.sort(np.random.default_rng(3).choice(1000, size=40, replace=False))
    np.testing.assert_array_equal(sample_rows(1000, 40, 3), expected)
    np.testing.assert_array_equal(sample_rows(40, 40, 3), np.arange(40))
    assert not np.array_equal(sample_rows(1000, 40, 4), expected)


def test_the_silhouette_is_none_where_it_is_undefined_and_samples_by_seed():
    from sklearn.metrics import silhouette_score

    from netflix_dec.evaluation import silhouette

    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))])
    labels = np.repeat([0, 1], 30)
    assert silhouette(points, np.zeros(60, int)) is None
    assert silhouette(points[:3], np.arange(3)) is None
    assert silhouette(points, labels) == pytest.approx(
        silhouette_score(points, labels), rel=1e-12
    )
    # The DEC guard's sample: scikit-learn's own draw for that seed.
    assert silhouette(points, labels, sample_size=20, seed=5) == pytest.approx(
        silhouette_score(points, labels, sample_size=20, random_state=5), rel=1e-12
    )
