"""model_selection nodes: the sweep's scores, the suggestion rule, the plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.datasets import make_blobs

from netflix_dec.params import ModelSelectionParams
from netflix_dec.pipelines.model_selection import nodes

BASE = {
    "n_clusters": [2, 3, 4, 5, 6],
    "seeds": [0, 1, 2],
    "kmeans_n_init": 1,
    "min_stability": 0.8,
    "silhouette_sample": 1000,
}
GENRES = ["Horror Movies", "Dramas", "Comedies", "Documentaries"]


def params(**changes) -> ModelSelectionParams:
    return ModelSelectionParams(**(BASE | changes))


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, pd.DataFrame]:
    """Four well separated groups in 10 dimensions, each with its own genre."""
    points, groups = make_blobs(
        n_samples=240, centers=4, n_features=10, cluster_std=1.0, random_state=3
    )
    titles = pd.DataFrame(
        {
            "show_id": [f"s{i}" for i in range(len(groups))],
            "listed_in": [f"{GENRES[g]}, International Movies" for g in groups],
        }
    )
    return points.astype(np.float32), titles


def test_the_sweep_scores_every_k_and_finds_the_planted_groups(blobs):
    points, titles = blobs
    table = nodes.sweep_n_clusters(points, titles, params(n_clusters=[6, 2, 4, 3, 5]))
    assert table["n_clusters"].tolist() == [2, 3, 4, 5, 6]
    assert set(nodes.SCORES) <= set(table.columns)
    best = table.set_index("n_clusters")
    assert best["silhouette"].idxmax() == 4
    assert best["calinski_harabasz"].idxmax() == 4
    assert best["davies_bouldin"].idxmin() == 4
    assert best.loc[4, "stability"] == pytest.approx(1.0)
    assert best.loc[4, "genre_ari"] == pytest.approx(1.0)
    report = nodes.suggest_n_clusters(table, params())
    assert report["suggested_k"] == 4
    assert "silhouette" in report["rule"] and "stability" in report["rule"]
    assert report["preferred_by_each_score"]["genre_nmi"] >= 4


def test_without_genres_the_sweep_still_suggests(blobs):
    points, titles = blobs
    table = nodes.sweep_n_clusters(points, titles.drop(columns="listed_in"), params())
    assert "genre_nmi" not in table.columns
    assert nodes.suggest_n_clusters(table, params())["suggested_k"] == 4


def test_the_sweep_refuses_a_space_of_another_table(blobs):
    points, titles = blobs
    with pytest.raises(ValueError, match=r"240 rows but there are 239 clean titles"):
        nodes.sweep_n_clusters(points, titles.iloc[:-1], params())


def test_the_sweep_refuses_more_clusters_than_titles(blobs):
    points, titles = blobs
    with pytest.raises(ValueError, match=r"n_clusters \[300\] must be smaller"):
        nodes.sweep_n_clusters(points, titles, params(n_clusters=[2, 300]))


def _table(silhouette, stability) -> pd.DataFrame:
    ks = [5, 10, 15, 20][: len(silhouette)]
    return pd.DataFrame(
        {
            "n_clusters": ks,
            "silhouette": silhouette,
            "calinski_harabasz": [1.0] * len(ks),
            "davies_bouldin": [1.0] * len(ks),
            "stability": stability,
        }
    )


def test_an_unstable_k_is_not_suggested_however_well_separated():
    table = _table([0.2, 0.5, 0.3], [0.9, 0.6, 0.85])
    report = nodes.suggest_n_clusters(table, params())
    assert report["suggested_k"] == 15
    assert report["stable_n_clusters"] == [5, 15]


def test_a_tie_goes_to_the_smaller_k():
    table = _table([0.3, 0.3, 0.1], [0.9, 0.9, 0.9])
    assert nodes.suggest_n_clusters(table, params())["suggested_k"] == 5


def test_when_no_k_is_stable_enough_the_most_stable_is_suggested_and_said():
    table = _table([0.5, 0.4, 0.3], [0.5, 0.7, 0.6])
    report = nodes.suggest_n_clusters(table, params())
    assert report["suggested_k"] == 10
    assert "no n_clusters reached stability 0.8" in report["basis"]


def test_the_plot_has_one_curve_per_score_and_marks_the_suggestion(blobs):
    points, titles = blobs
    table = nodes.sweep_n_clusters(points, titles, params())
    report = nodes.suggest_n_clusters(table, params())
    figure = nodes.plot_sweep(table, report)
    curves = [ax for ax in figure.axes if ax.lines]
    assert len(curves) == len(nodes.SCORES)
    for ax in curves:
        x, _ = ax.lines[0].get_data()
        assert list(x) == table["n_clusters"].tolist()
        marks = [line for line in ax.lines[1:] if set(line.get_xdata()) == {4}]
        assert marks, ax.get_title()
    assert "suggested 4" in figure._suptitle.get_text()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_clusters": [5, 5, 10]}, "distinct whole numbers from 2"),
        ({"n_clusters": [1, 5]}, "distinct whole numbers from 2"),
        ({"n_clusters": []}, "at least 1 item"),
        ({"seeds": [0]}, "at least 2 items"),
        ({"seeds": [1, 1]}, "stability compares them"),
        ({"min_stability": 1.5}, "less than or equal to 1"),
    ],
)
def test_bad_sweep_parameters_are_refused_naming_the_value(changes, message):
    with pytest.raises(ValidationError, match=message):
        params(**changes)


@pytest.mark.parametrize("value", [[12], "12"])
def test_one_n_clusters_is_a_sweep_of_one(value):
    """`--params model_selection.n_clusters=12` scores that one k (issue 27)."""
    assert params(n_clusters=value).n_clusters == [12]


def test_a_sweep_of_one_k_scores_it_and_suggests_it(blobs):
    points, titles = blobs
    table = nodes.sweep_n_clusters(points, titles, params(n_clusters=[4]))
    assert table["n_clusters"].tolist() == [4]
    assert table["stability"].iloc[0] > 0.9  # four well separated groups
    report = nodes.suggest_n_clusters(table, params(n_clusters=[4]))
    assert report["suggested_k"] == 4
    figure = nodes.plot_sweep(table, report)
    assert "suggested 4" in figure._suptitle.get_text()
