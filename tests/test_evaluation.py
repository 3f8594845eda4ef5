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
