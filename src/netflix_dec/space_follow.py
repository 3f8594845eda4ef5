"""Follow the previous run's UMAP layout instead of fitting a new one.

A plain library module (no Kedro). A retrain that fits a new UMAP layout on a
grown catalogue gets another random layout: on the real file grown from 85%
to 100% only 78-83% of the titles in both runs kept their cluster number,
although KMeans started from the previous clusters (benchmarks/results).
Starting UMAP from the previous positions (``init=``) did not help (79%
kept, at 500, 100 or 30 epochs): the new fit reshapes the neighbourhoods
whatever its start. Keeping the previous layout does: a title still in the
catalogue keeps its position; a new title starts where the previous run's
space encoder puts it (the kernel-weighted mean of its nearest previous
titles' positions, :class:`netflix_dec.space.NeighbourSpace`) and is then
placed by UMAP's objective with every other title fixed (:func:`place_new`);
the previous clusters start KMeans/DEC in the same space they were made in.

The layout is refitted when the catalogue changed too much for the old one
(more than ``max_change`` of the layout's titles new or gone since it was
fitted, summed over the retrains that followed it), when the
previous layout was fitted on a sample (``umap_max_fit``: titles outside it
cannot be told from new ones), or when its settings differ from this run's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from netflix_dec.space import EMBEDDING_LAYER, NeighbourSpace, unit_rows

logger = logging.getLogger(__name__)

SAME_ROW = 1 - 1e-5
"""Cosine similarity from which a current title is taken as a previous
layout's title (the same description gives the same sentence features)."""

CHUNK = 2048
"""Rows compared with the previous layout's titles at a time."""


@dataclass(frozen=True)
class FollowedLayout:
    """The previous layout carried over to the current catalogue."""

    landmarks: np.ndarray
    """The layout's titles' normalised features, as this run has them: the
    previous layout's titles still in the catalogue, then the new ones."""
    positions: np.ndarray
    """Their positions: the previous ones, then the previous encoder's."""
    kept: int
    new: int
    gone: int
    before: float = 0.0
    """Share changed since the layout was fitted, over the earlier retrains."""

    @property
    def change(self) -> float:
        """Titles new or gone, as a share of the followed layout's titles."""
        return (self.new + self.gone) / max(self.kept + self.new, 1)

    @property
    def since_fit(self) -> float:
        """Titles new or gone since the layout was fitted, summed over retrains.

        What decides a refit: many small retrains would otherwise each stay
        below the threshold, and the layout would never be fitted again.
        """
        return self.before + self.change


def neighbour_space(model: Any) -> NeighbourSpace | None:
    """The :class:`NeighbourSpace` layer of a space encoder, or None."""
    try:
        layer = model.get_layer(EMBEDDING_LAYER)
    except (ValueError, AttributeError):
        return None
    return layer if isinstance(layer, NeighbourSpace) else None


def why_not_follow(
    previous: Any,
    n_titles: int,
    n_features: int,
    *,
    n_components: int,
    n_neighbors: int,
    max_fit: int,
) -> str | None:
    """Why the previous model's layout cannot be followed, or None if it can."""
    if previous is None:
        return "no previous space encoder"
    layer = neighbour_space(previous)
    if layer is None:
        return "the previous model is not a UMAP space encoder"
    if layer.n_features != n_features or layer.n_components != n_components:
        return (
            f"the previous layout maps {layer.n_features} features to "
            f"{layer.n_components}-d, this run {n_features} to {n_components}-d"
        )
    if layer.k != min(n_neighbors, layer.n_landmarks):
        return f"the previous layout used {layer.k} neighbours, this run {n_neighbors}"
    if layer.n_landmarks >= max_fit or n_titles > max_fit:
        return (
            f"the layout is fitted on a sample above encoding.umap_max_fit={max_fit} "
            "titles, so new titles cannot be told from unsampled ones"
        )
    return None


def _nearest(
    rows: np.ndarray, landmarks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's most similar landmark and similarity; each landmark's best row and similarity."""
    best = np.empty(len(rows), dtype=np.float32)
    which = np.empty(len(rows), dtype=np.int64)
    landmark_best = np.full(len(landmarks), -np.inf, dtype=np.float32)
    landmark_row = np.zeros(len(landmarks), dtype=np.int64)
    for start in range(0, len(rows), CHUNK):
        similarity = rows[start : start + CHUNK] @ landmarks.T
        which[start : start + CHUNK] = similarity.argmax(axis=1)
        best[start : start + CHUNK] = similarity.max(axis=1)
        column_best = similarity.max(axis=0)
        better = column_best > landmark_best
        landmark_row[better] = start + similarity.argmax(axis=0)[better]
        landmark_best = np.maximum(landmark_best, column_best)
    return which, best, landmark_best, landmark_row


def place_new(
    rows: np.ndarray,
    positions: np.ndarray,
    new: np.ndarray,
    *,
    n_neighbors: int,
    metric: str,
    min_dist: float,
    n_epochs: int,
    seed: int,
    words: Any = None,
    word_weight: float = 0.0,
) -> np.ndarray:
    """Optimise the new titles' positions in a layout whose other titles stay put.

    UMAP's own objective, as its ``transform`` runs it: each new title is
    pulled towards its ``n_neighbors`` nearest titles (the fuzzy memberships
    UMAP's fit uses) and pushed from random others, and only new titles move.
    Unlike ``transform``, the neighbours are taken among all titles, new ones
    too, so a theme the previous catalogue lacked can gather in a region of
    its own instead of being averaged between old ones.

    Args:
        rows: Every title's unit-length features.
        positions: Every title's start position (the new ones' from the
            previous encoder); a copy is optimised.
        new: Indices of the titles that may move.
        n_neighbors: As the layout's fit (UMAP's ``n_neighbors``).
        metric: Of the neighbour search.
        min_dist: As the layout's fit.
        n_epochs: Passes over the new titles' edges.
        seed: Of the edge and negative sampling.
        words: Every title's word rows (:func:`netflix_dec.space.word_rows`),
            blended into the neighbour distance as the fit blended them.
        word_weight: As the fit's (``encoding.umap_word_weight``).

    Returns:
        The positions, the new titles' optimised.
    """
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import (
        compute_membership_strengths,
        find_ab_params,
        make_epochs_per_sample,
        smooth_knn_dist,
    )

    from netflix_dec.space import _cache_umap_kernels, blended_neighbours

    layout = np.array(positions, dtype=np.float32, order="C")
    if len(new) == 0 or n_epochs <= 0:
        return layout
    _cache_umap_kernels()
    k = min(n_neighbors, len(rows) - 1)
    # Only the moving titles' neighbours (among all titles) are needed.
    indices, distances = blended_neighbours(
        rows, words, k + 1, metric, word_weight, queries=np.asarray(new)
    )
    sigmas, rhos = smooth_knn_dist(distances, float(k), local_connectivity=1.0)
    # A title is not its own neighbour (-1 is skipped).
    indices = np.where(indices == np.asarray(new)[:, None], -1, indices)
    local, tail, weights, _ = compute_membership_strengths(
        indices, distances, sigmas, rhos, bipartite=True
    )
    keep = weights >= weights.max() / n_epochs
    head = np.asarray(new)[local[keep]].astype(np.int32)
    tail, weights = tail[keep].astype(np.int32), weights[keep]
    a, b = find_ab_params(1.0, min_dist)
    rng_state = (
        np.random.RandomState(seed).randint(-(2**31) + 1, 2**31 - 1, 3).astype(np.int64)
    )
    # One array as heads and tails: moved new titles pull and push each other.
    optimize_layout_euclidean(
        layout,
        layout,
        head,
        tail,
        n_epochs,
        len(layout),
        make_epochs_per_sample(weights, n_epochs),
        a,
        b,
        rng_state,
        move_other=False,
    )
    return layout


def follow_layout(
    previous: Any,
    features: np.ndarray,
    place: dict[str, Any] | None = None,
    words: Any = None,
) -> FollowedLayout:
    """The previous layout over the current titles (see the module docs).

    Args:
        previous: The previous run's space encoder (features → positions).
        features: The current titles' dense features.
        place: Settings of :func:`place_new` (without the arrays); None
            keeps the previous encoder's positions of the new titles.
        words: The current titles' word rows, in the order of ``features``
            (:func:`netflix_dec.space.word_rows`), for ``place``'s word weight.

    Returns:
        The previous titles still in the catalogue with their positions, then
        the new titles, placed by :func:`place_new` from where the previous
        encoder puts them (left there when ``place`` is None).
    """
    layer = neighbour_space(previous)
    landmarks, positions = (np.asarray(w, np.float32) for w in layer.get_weights())
    rows = unit_rows(features)
    _, best, landmark_best, landmark_row = _nearest(rows, landmarks)
    still = landmark_best >= SAME_ROW
    new = np.flatnonzero(best < SAME_ROW)
    placed = (
        np.asarray(previous.predict(rows[new], verbose=0), np.float32)
        if len(new)
        else np.empty((0, positions.shape[1]), np.float32)
    )
    # The current titles' own normalised rows, kept and new, as the fit had
    # them (not the stored landmarks, which the encoder normalised once more):
    # an unchanged catalogue gets the very same encoder, so what was cached
    # of the previous run's space (its t-SNE map) still fits.
    order = np.concatenate([landmark_row[still], new])
    positions = np.concatenate([positions[still], placed])
    if place is not None:
        moving = np.arange(int(still.sum()), len(order))
        positions = place_new(
            rows[order],
            positions,
            moving,
            words=None if words is None else words[order],
            **place,
        )
    return FollowedLayout(
        landmarks=rows[order],
        positions=positions,
        kept=int(still.sum()),
        new=int(len(new)),
        gone=int((~still).sum()),
        before=layer.followed_change,
    )
