"""Scoring clusterings: agreement with genres, silhouettes, stability, samples.

The one home of every score the pipelines report and of the seeded row
sampler their samples come from (:func:`sample_rows`). No Kedro here.

Nobody labelled these titles by what their descriptions say; ``listed_in`` is
the nearest thing. A title lists several genres, some of them broad tags
("International Movies") that say nothing about the story. The weak label of
a title is its most specific genre: of its genres that are not broad tags, the
one that is rarest in the whole catalogue ("Dramas, Romantic Movies" →
"Romantic Movies"). Titles with only broad tags keep their first one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# scikit-learn and SciPy's optimiser are imported in the functions that use
# them: node modules import this one, and scikit-learn's import costs seconds
# of start-up to runs that never score a clustering.

INTERNATIONAL_TAGS = {
    "Movie": "International Movies",
    "TV Show": "International TV Shows",
}
"""The broad tag of each kind of title (``type``) that says only "not American"."""

BROAD_TAGS = frozenset(
    {*INTERNATIONAL_TAGS.values(), "Independent Movies", "Movies", "TV Shows"}
)
"""Genres that say nothing about the story: never a weak label while a title has another."""


def split_genres(listed_in: pd.Series) -> pd.Series:
    """Each title's genres as a list, in the order the catalogue gives them."""
    return (
        listed_in.fillna("")
        .str.split(",")
        .map(lambda genres: [genre.strip() for genre in genres if genre.strip()])
    )


def genres_or_none(titles: pd.DataFrame) -> pd.Series:
    """``listed_in``, or no genre for any title when the catalogue has none."""
    if "listed_in" in titles:
        return titles["listed_in"]
    return pd.Series("", index=titles.index, dtype=object)


def weak_genre_labels(listed_in: pd.Series) -> pd.Series:
    """The most specific genre of each title (see the module docstring)."""
    genres = split_genres(listed_in)
    frequency = genres.explode().value_counts()

    def most_specific(items: list[str]) -> str:
        specific = [genre for genre in items if genre not in BROAD_TAGS]
        if not specific:
            return items[0] if items else "Unknown"
        return min(specific, key=lambda genre: (frequency[genre], genre))

    return genres.map(most_specific).rename("weak_label")


def hungarian_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import confusion_matrix

    _, truth_codes = np.unique(np.asarray(truth), return_inverse=True)
    _, label_codes = np.unique(np.asarray(labels), return_inverse=True)
    matrix = confusion_matrix(label_codes, truth_codes)
    rows, cols = linear_sum_assignment(-matrix)
    return float(matrix[rows, cols].sum() / len(truth_codes))


def agreement(truth: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """NMI, ARI and Hungarian-matched accuracy of ``labels`` against ``truth``."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "ari": float(adjusted_rand_score(truth, labels)),
        "accuracy": hungarian_accuracy(truth, labels),
    }


def sample_rows(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted row numbers: all ``n_rows``, or ``size`` of them drawn by ``seed``.

    The one seeded row sampler: silhouettes, the t-SNE map and UMAP's fit all
    take their sample of a large catalogue here, so the same seed picks the
    same titles wherever a sample is drawn. Sorted, so reading the rows of a
    memory map goes forward through the file.
    """
    if n_rows <= size:
        return np.arange(n_rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def silhouette(
    points: np.ndarray,
    labels: np.ndarray,
    *,
    metric: str = "euclidean",
    sample_size: int | None = None,
    seed: int | None = None,
) -> float | None:
    """The silhouette of ``labels`` in ``points``, None where it is undefined.

    Undefined with fewer than two clusters or with every title a cluster of
    its own. Pairwise distances are computed in 64 MB chunks, never as one
    n × n matrix. ``sample_size`` and ``seed`` make scikit-learn score a
    random subset (its own sampler, kept because the DEC guard's recorded
    silhouettes come from it); callers that score several clusterings on one
    sample draw it once with :func:`sample_rows` instead.

    Args:
        points: One row per title (``metric="precomputed"``: a square matrix
            of distances between the titles).
        labels: Each title's cluster.
        metric: Any metric scikit-learn's ``silhouette_score`` accepts.
        sample_size: Score this many titles drawn by ``seed`` (None: all).
        seed: Seed of that draw.
    """
    import sklearn
    from sklearn.metrics import silhouette_score

    if not 2 <= len(np.unique(labels)) < len(labels):
        return None
    with sklearn.config_context(working_memory=64):
        return float(
            silhouette_score(
                points,
                labels,
                metric=metric,
                sample_size=sample_size,
                random_state=seed,
            )
        )


SAME_POINTS_ATOL = 1e-6
"""Largest coordinate difference of two embeddings taken as the same points."""


def start_and_final_silhouettes(
    start_points: np.ndarray,
    final_points: np.ndarray,
    start_labels: np.ndarray,
    final_labels: np.ndarray,
) -> tuple[float | None, float | None]:
    """The silhouettes of DEC's start and its result, each in its own embedding.

    Both on the same titles (the caller's sample). In float64, which
    scikit-learn computes faster than float32 (it upcasts float32 chunk by
    chunk): 1.0 s against 1.7 s of CPU on the real file.

    DEC that kept its start in an unchanged embedding (sentence features, or
    the guard restored the start) has the start's silhouette: same points,
    same labels, same sample. Quadratic in titles, so not measured twice.
    "Same points" allows float rounding: KMeans centres its input in place
    and adds the mean back, which leaves the stored DEC embedding of the
    sentence features a few 1e-8 off the features (a second silhouette of
    the real file's map cost a second and differed in the 8th digit).
    """
    start = silhouette(start_points.astype(np.float64), start_labels)
    unchanged = (
        np.array_equal(final_labels, start_labels)
        and start_points.shape == final_points.shape
        and np.allclose(start_points, final_points, rtol=0, atol=SAME_POINTS_ATOL)
    )
    if unchanged:
        return start, start
    return start, silhouette(final_points.astype(np.float64), final_labels)


def compare_with_start(
    listed_in: pd.Series | None,
    start_labels: np.ndarray,
    final_labels: np.ndarray,
    start_points: np.ndarray,
    final_points: np.ndarray,
    sample: np.ndarray,
) -> dict[str, Any]:
    """DEC's clusters against its KMeans start: genres, silhouette, what moved.

    Args:
        listed_in: Each title's genres, or None when the catalogue has none
            (agreement is then None throughout).
        start_labels: DEC's KMeans start, in the final clusters' numbers.
        final_labels: DEC's clusters.
        start_points: The ``sample`` rows of the start's embedding.
        final_points: The same rows of DEC's embedding.
        sample: The rows the silhouettes are measured on (:func:`sample_rows`).

    Returns:
        What the weak labels are, then ``kmeans_start`` and ``final`` (clusters
        in use, silhouette, NMI, ARI, accuracy) and ``dec``: what DEC's
        iterations earned over their own start.
    """
    truth = weak_genre_labels(listed_in).to_numpy() if listed_in is not None else None
    start_silhouette, final_silhouette = start_and_final_silhouettes(
        start_points, final_points, start_labels[sample], final_labels[sample]
    )
    start = agreement(truth, start_labels) if truth is not None else _NO_AGREEMENT
    end = agreement(truth, final_labels) if truth is not None else _NO_AGREEMENT
    return {
        "weak_labels": "most specific listed_in genre (broad tags such as International Movies ignored)"
        if truth is not None
        else "listed_in: not in this catalogue",
        "weak_label_classes": int(len(np.unique(truth))) if truth is not None else 0,
        "kmeans_start": {
            "non_empty_clusters": int(len(np.unique(start_labels))),
            "silhouette": start_silhouette,
            **start,
        },
        "final": {
            "non_empty_clusters": int(len(np.unique(final_labels))),
            "silhouette": final_silhouette,
            **end,
        },
        "dec": {
            "moved": float(np.mean(final_labels != start_labels)),
            "nmi_gain": end["nmi"] - start["nmi"] if truth is not None else None,
            "ari_gain": end["ari"] - start["ari"] if truth is not None else None,
        },
    }


# Agreement with genres when the catalogue has no listed_in column.
_NO_AGREEMENT = {"nmi": None, "ari": None, "accuracy": None}


def kmeans_runs(
    points: Any, n_clusters: int, n_init: int, seeds: list[int]
) -> list[np.ndarray]:
    """The labels of KMeans (``n_init`` k-means++ starts) once per seed."""
    from sklearn.cluster import KMeans

    return [
        KMeans(n_clusters, n_init=n_init, random_state=seed).fit_predict(points)
        for seed in seeds
    ]


def seed_agreement(runs: list[np.ndarray]) -> list[float]:
    """Adjusted Rand index of every pair of runs: how much other seeds find again."""
    import itertools

    from sklearn.metrics import adjusted_rand_score

    return [adjusted_rand_score(a, b) for a, b in itertools.combinations(runs, 2)]


def sample_distances(points: Any, rows: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a sample, for many silhouettes.

    One sample of titles and its distance matrix serve every silhouette of a
    sweep: the scores compare on the same titles, at O(n²) once. Computed in
    64 MB chunks and kept in float32 (the matrix is the sample's square).
    """
    import sklearn
    from sklearn.metrics import pairwise_distances

    with sklearn.config_context(working_memory=64):
        return pairwise_distances(points[rows]).astype(np.float32)


def kmeans_scores(
    points: Any,
    runs: list[np.ndarray],
    sample: np.ndarray,
    distances: np.ndarray,
    truth: np.ndarray | None,
) -> dict[str, float]:
    """How well separated, how stable and how genre-like KMeans runs are, averaged.

    Args:
        points: The rows clustered (dense or sparse).
        runs: Each seed's labels (:func:`kmeans_runs`).
        sample: The rows the silhouette is measured on (:func:`sample_rows`).
        distances: Their distances (:func:`sample_distances`).
        truth: Each title's weak label, or None: no genre scores.

    Returns:
        ``silhouette``, ``calinski_harabasz`` and ``davies_bouldin`` (NaN for
        sparse rows, which they cannot score), ``stability`` (mean ARI between
        the seeds) and, with ``truth``, ``genre_nmi`` and ``genre_ari``.
    """
    from scipy import sparse
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    dense = not sparse.issparse(points)
    scores = {
        "silhouette": _mean(
            silhouette(distances, labels[sample], metric="precomputed")
            for labels in runs
        ),
        # Both need dense rows; the clustering space is dense in every variant.
        "calinski_harabasz": _mean(
            calinski_harabasz_score(points, labels) for labels in runs
        )
        if dense
        else np.nan,
        "davies_bouldin": _mean(davies_bouldin_score(points, labels) for labels in runs)
        if dense
        else np.nan,
        "stability": _mean(seed_agreement(runs)),
    }
    if truth is not None:
        agreements = [agreement(truth, labels) for labels in runs]
        scores["genre_nmi"] = _mean(score["nmi"] for score in agreements)
        scores["genre_ari"] = _mean(score["ari"] for score in agreements)
    return scores


def _mean(values: Any) -> float:
    return float(np.mean(list(values)))
