"""Sweep the number of clusters on the cached clustering space and suggest one.

For each ``k`` the titles are clustered with KMeans once per seed, in the
space the DEC clustering starts from. Three internal scores say how well
separated the clusters are (silhouette and Calinski–Harabasz: higher is
better; Davies–Bouldin: lower is better), stability says whether other seeds
find the same clusters (mean adjusted Rand index between the seeds' labels),
and, when the catalogue has ``listed_in``, NMI and ARI say how well the
clusters agree with each title's most specific genre.

The suggestion uses the unsupervised scores only, so it works on catalogues
without genres: among the ``k`` that are stable enough, the best separated.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from netflix_dec.evaluation import (
    kmeans_runs,
    kmeans_scores,
    sample_distances,
    sample_rows,
    weak_genre_labels,
)
from netflix_dec.lazy import Figure, pyplot
from netflix_dec.params import ModelSelectionParams

logger = logging.getLogger(__name__)

# Column → (label on the plot, whether higher is better).
SCORES = {
    "silhouette": ("Silhouette", True),
    "calinski_harabasz": ("Calinski–Harabasz", True),
    "davies_bouldin": ("Davies–Bouldin", False),
    "stability": ("Stability (ARI between seeds)", True),
    "genre_nmi": ("NMI against genres", True),
    "genre_ari": ("ARI against genres", True),
}


def sweep_n_clusters(
    space: np.ndarray | sparse.spmatrix,
    titles: pd.DataFrame,
    params: ModelSelectionParams,
) -> pd.DataFrame:
    """Score KMeans for every ``n_clusters`` and seed of the sweep.

    Args:
        space: One row per clean title, in the space the clustering uses.
        titles: The clean titles (``listed_in`` gives the genre scores).
        params: The sweep's ``k`` values, seeds and KMeans restarts.

    Returns:
        One row per ``k``: the scores averaged over the seeds, and stability.
    """
    n_titles = _check_sweep(space.shape[0], len(titles), params)
    truth = (
        weak_genre_labels(titles["listed_in"]).to_numpy()
        if "listed_in" in titles.columns
        else None
    )
    # One sample of titles and its distances serve every silhouette of the sweep.
    sample = sample_rows(n_titles, params.silhouette_sample, params.seeds[0])
    distances = sample_distances(space, sample)
    rows = []
    for k in sorted(params.n_clusters):
        runs = kmeans_runs(space, k, params.kmeans_n_init, params.seeds)
        row = {"n_clusters": k, **kmeans_scores(space, runs, sample, distances, truth)}
        logger.info(
            "n_clusters %d: %s.",
            k,
            ", ".join(
                f"{key} {value:.3f}" for key, value in row.items() if key in SCORES
            ),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _check_sweep(n_titles: int, n_clean: int, params: ModelSelectionParams) -> int:
    """The number of titles swept, once it fits the table and every ``k``."""
    if n_titles != n_clean:
        raise ValueError(
            f"The clustering space has {n_titles} rows but there are {n_clean} "
            "clean titles: it was made from another table; rerun the encoding pipeline."
        )
    too_many = [k for k in params.n_clusters if k >= n_titles]
    if too_many:
        raise ValueError(
            f"model_selection.n_clusters {too_many} must be smaller than the number "
            f"of titles ({n_titles})."
        )
    return n_titles


def suggest_n_clusters(
    table: pd.DataFrame, params: ModelSelectionParams
) -> dict[str, Any]:
    """The suggested ``k`` and the rule that chose it.

    Rule: among the ``k`` whose stability reaches ``min_stability``, the one
    with the highest silhouette (the smaller ``k`` on a tie); when no ``k`` is
    that stable, the most stable one. Which ``k`` each score prefers on its
    own is reported too, so disagreements are visible.
    """
    stable = table[table["stability"] >= params.min_stability]
    suggested, basis = _suggest(table, stable, params.min_stability)
    preferred = _preferred_by_each_score(table)
    logger.info(
        "Suggested n_clusters: %d (%s); each score on its own prefers %s.",
        suggested,
        basis,
        preferred,
    )
    return {
        "suggested_k": suggested,
        "rule": RULE.format(seeds=len(params.seeds), least=params.min_stability),
        "basis": basis,
        "stable_n_clusters": [int(k) for k in stable["n_clusters"]],
        "preferred_by_each_score": preferred,
        "n_clusters": [int(k) for k in table["n_clusters"]],
        "seeds": list(params.seeds),
        "scores": table.replace({np.nan: None}).to_dict(orient="records"),
    }


RULE = (
    "Among the n_clusters whose stability (mean adjusted Rand index between "
    "the KMeans labels of {seeds} seeds) is at least "
    "{least:g}, the one with the highest silhouette; the "
    "smaller on a tie; the most stable when none is stable enough."
)
"""The suggestion's rule in words, as the report states it."""


def _suggest(
    table: pd.DataFrame, stable: pd.DataFrame, least: float
) -> tuple[int, str]:
    """The suggested ``k`` by :data:`RULE`, and which branch of it chose."""
    if stable.empty:
        best = table.sort_values(["stability", "n_clusters"], ascending=[False, True])
        return int(best["n_clusters"].iloc[0]), (
            f"no n_clusters reached stability {least:g}; the most stable was taken"
        )
    best = stable.sort_values(["silhouette", "n_clusters"], ascending=[False, True])
    return int(best["n_clusters"].iloc[0]), (
        f"highest silhouette among the n_clusters with stability >= {least:g}"
    )


def _preferred_by_each_score(table: pd.DataFrame) -> dict[str, int]:
    """The ``k`` each score prefers on its own (the scores the table has)."""
    preferred = {}
    for column, (_, higher_is_better) in SCORES.items():
        if column not in table or table[column].isna().all():
            continue
        index = table[column].idxmax() if higher_is_better else table[column].idxmin()
        preferred[column] = int(table.loc[index, "n_clusters"])
    return preferred


def plot_sweep(table: pd.DataFrame, report: dict[str, Any]) -> Figure:
    """One panel per score against ``n_clusters``, the suggested ``k`` marked."""
    plt = pyplot()

    columns = [c for c in SCORES if c in table and not table[c].isna().all()]
    n_cols = 3
    n_rows = -(-len(columns) // n_cols)
    figure, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.2 * n_cols, 3.2 * n_rows), squeeze=False
    )
    suggested = report["suggested_k"]
    for ax, column in zip(axes.flat, columns, strict=False):
        label, higher_is_better = SCORES[column]
        ax.plot(table["n_clusters"], table[column], marker="o", color="#1f77b4")
        ax.axvline(suggested, color="#d62728", linestyle="--", linewidth=1.2)
        ax.set_title(f"{label} ({'higher' if higher_is_better else 'lower'} is better)")
        ax.set_xlabel("n_clusters")
        ax.set_xticks(table["n_clusters"])
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    figure.suptitle(
        f"Choosing the number of clusters: suggested {suggested} (dashed)\n"
        f"{report['basis']}",
        fontsize=11,
    )
    figure.tight_layout()
    plt.close(figure)
    return figure
