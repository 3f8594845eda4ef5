"""The clustering space of sentence features: UMAP, and a Keras encoder into it.

A plain library module (no Kedro). KMeans on the 384-d sentence features finds
clusters that two seeds agree on only half of (ARI 0.52 on the real file):
in 384 dimensions many titles sit between clusters. UMAP (umap-learn, the
library BERTopic uses) lays the titles' cosine neighbour graph out in a few
dimensions where those neighbourhoods are kept and the space between them is
emptied, and KMeans on the layout agrees better with genres and with itself
(benchmarks/results/results.md). The graph blends in the words two
descriptions share (TF-IDF cosine, :func:`blended_neighbours`): on the real
file that lifted agreement with genres most on small catalogues (850 and
2,000 movies), where a sentence embedding's neighbours are the noisiest.

UMAP positions only the titles it was fitted on. New titles must reach the
same space without a refit, one title at a time or in any batch, and the
training titles must land exactly where their clusters were made. So the
space is a Keras encoder, :func:`build_space_encoder`: a title's position is
the kernel-weighted mean of the UMAP positions of its ``k`` nearest fitted
titles (cosine similarity, weights ``exp((s - s_max) / temperature)``). It is
a pure function of one row, needs no training, and the training titles'
clustering space is its output, so assigning the training file reproduces
their clusters. On the real file it also lifted seed-to-seed agreement
(the neighbours' mean smooths each layout's own noise) at the same NMI; a
Keras MLP regressed onto the positions lost agreement and took longer.

Costs: neighbours are exact (scikit-learn, brute force) and passed to UMAP as
``precomputed_knn``, so pynndescent's numba search never compiles. UMAP's
own numba kernels are compiled once and cached on disk
(:func:`_cache_umap_kernels`), not per process. ``import umap`` happens only
when a layout is fitted (it imports TensorFlow). Large catalogues are fitted
on a sample of ``max_fit`` titles; the encoder places the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import keras
import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

EMBEDDING_LAYER = "embedding"
"""The encoder's output layer; :func:`netflix_dec.dec.encoder_of` looks it up."""


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    rows = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def exact_neighbours(
    x: np.ndarray, n_neighbors: int, metric: str, queries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``n_neighbors`` nearest rows (itself first) and distances.

    Brute force in scikit-learn: 1 s for the real file's 6,131 × 384 rows,
    against about 21 s of numba compilation for pynndescent's approximate
    search in every fresh process. ``queries`` (rows of ``x``) limits the
    search to those rows' neighbours among all of ``x``.
    """
    import sklearn
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(
        n_neighbors=n_neighbors, metric=metric, algorithm="brute"
    ).fit(x)
    # Distances in chunks of 256 MB: scikit-learn's default 1 GB chunk raised a
    # 20,000-title fit's peak by about that much.
    with sklearn.config_context(working_memory=256):
        distances, indices = search.kneighbors(x if queries is None else queries)
    return indices.astype(np.int32), np.maximum(distances, 0).astype(np.float32)


# A word in one description links no two titles.
_WORDS_MIN_COUNT = 2


def word_rows(texts: Sequence[str]) -> sparse.csr_matrix | None:
    """Unit-length TF-IDF rows of the descriptions, for the neighbour graph.

    Sentence embeddings place "a stand-up special" and "a comedian's tour"
    together but also blur what a handful of words say outright; the words
    shared between two descriptions sharpen the graph UMAP lays out
    (:func:`blended_neighbours`). Sublinear counts of the words in at least
    two descriptions, without scikit-learn's English stop words: the
    sentence model is an English one, so is the catalogue it can read.
    (Cutting the words in more than a tenth of the descriptions instead, a
    list for any language, scored the same NMI on the real file but two seeds
    agreed less: benchmarks/results/results.md.)

    Returns:
        ``(len(texts), n_words)`` float32 CSR rows of unit length (zero for a
        description with none of the kept words), or None when no word is
        kept (too few descriptions, or none sharing a word): the graph is the
        sentences' alone then.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < _WORDS_MIN_COUNT:
        return None
    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        min_df=_WORDS_MIN_COUNT,
        stop_words="english",
        dtype=np.float32,
    )
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # "After pruning, no terms remain" (or no words at all)
        return None


def blended_neighbours(
    x: np.ndarray,
    words: sparse.csr_matrix | None,
    n_neighbors: int,
    metric: str,
    word_weight: float,
    queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest rows by its features and its words together.

    The distance is ``(1 - word_weight) * d(x_i, x_j) + word_weight * (1 -
    cos(words_i, words_j))``, exact and brute force like
    :func:`exact_neighbours`, which it is with no words or weight 0.

    Args:
        x: Unit-length feature rows.
        words: :func:`word_rows` of the same titles, or None.
        n_neighbors: Neighbours per row, the row itself first.
        metric: Of the features (``cosine`` or ``euclidean``).
        word_weight: Share of the word distance, in ``[0, 1)``.
        queries: Indices of the rows whose neighbours are wanted (all: None).

    Returns:
        ``(indices, distances)``, ``(len(queries), n_neighbors)`` each.
    """
    if words is None or word_weight == 0:
        return exact_neighbours(
            x, n_neighbors, metric, None if queries is None else x[queries]
        )
    from sklearn.metrics import pairwise_distances

    wanted = np.arange(len(x)) if queries is None else np.asarray(queries)
    indices = np.empty((len(wanted), n_neighbors), np.int32)
    distances = np.empty((len(wanted), n_neighbors), np.float32)
    step = max(1, 2**23 // len(x))  # 32 MB of float32 distances at a time
    for start in range(0, len(wanted), step):
        chunk = wanted[start : start + step]
        shared = (words[chunk] @ words.T).toarray()
        d = (1 - word_weight) * pairwise_distances(x[chunk], x, metric=metric)
        d += word_weight * (1 - shared)
        d[np.arange(len(chunk)), chunk] = -1.0  # the row itself first
        nearest = np.argpartition(d, n_neighbors - 1, axis=1)[:, :n_neighbors]
        near = np.take_along_axis(d, nearest, axis=1)
        order = np.argsort(near, axis=1, kind="stable")
        indices[start : start + len(chunk)] = np.take_along_axis(nearest, order, 1)
        distances[start : start + len(chunk)] = np.maximum(
            np.take_along_axis(near, order, 1), 0
        )
    return indices, distances


def _cache_umap_kernels() -> None:
    """Have numba cache UMAP's compiled kernels on disk, not only in the process.

    umap-learn 0.5 compiles its layout kernels (and the fuzzy graph's) without
    ``cache=True``: every fresh process paid several seconds of compilation
    (6 s of a 9 s first fit on the real file). Numba's
    ``Dispatcher.enable_caching`` turns its file cache on for a function
    already decorated; later processes load the machine code instead. The
    parallel layout kernel shares its Python function with the serial one and
    so its cache file: it is left alone (a seeded UMAP runs serially).
    """
    from numba.core.registry import CPUDispatcher
    from umap import layouts, umap_, utils

    for module in (umap_, layouts, utils):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and not name.endswith("_parallel"):
                value.enable_caching()


def fit_umap(
    x: np.ndarray,
    *,
    n_components: int,
    n_neighbors: int,
    min_dist: float,
    metric: str,
    n_epochs: int,
    seed: int,
    words: sparse.csr_matrix | None = None,
    word_weight: float = 0.0,
) -> np.ndarray:
    """UMAP positions of ``x``'s rows, from exact neighbours (see module docs).

    ``words`` (:func:`word_rows` of the same titles) and ``word_weight`` blend
    the words two descriptions share into the neighbour graph
    (:func:`blended_neighbours`); the positions are still the features'.

    Returns:
        ``(n_rows, n_components)`` float32 positions.

    Raises:
        ValueError: Fewer rows than ``n_neighbors + 1`` would leave UMAP
            without a neighbour graph.
    """
    n = x.shape[0]
    if n <= n_neighbors or n < 4:
        raise ValueError(
            f"encoding.umap_neighbors={n_neighbors} needs more titles than that; "
            f"got {n}. Lower umap_neighbors or use encoding.embedding: features."
        )
    import umap  # lazily: it imports TensorFlow and numba

    _cache_umap_kernels()
    started = time.perf_counter()
    indices, distances = blended_neighbours(x, words, n_neighbors, metric, word_weight)
    searched = time.perf_counter() - started
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=n_components,
        min_dist=min_dist,
        metric=metric,
        n_epochs=n_epochs,
        random_state=seed,
        # A seeded layout runs on one thread anyway; saying so silences the warning.
        n_jobs=1,
        precomputed_knn=(indices, distances, None),
        # Spectral initialisation needs more rows than components + 1.
        init="spectral" if n > n_components + 1 else "random",
    )
    import warnings

    with warnings.catch_warnings():
        # No NNDescent index is kept: new titles go through the encoder, never
        # through UMAP's transform, which is what the warning is about.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        positions = reducer.fit_transform(x)
    logger.info(
        "UMAP of %d titles to %d-d (%d neighbours, %s, word weight %g, min_dist %g, "
        "%d epochs): neighbours %.1f s, layout %.1f s.",
        n,
        n_components,
        n_neighbors,
        metric,
        word_weight if words is not None else 0.0,
        min_dist,
        n_epochs,
        searched,
        time.perf_counter() - started - searched,
    )
    return np.asarray(positions, dtype=np.float32)


def space_key(
    x: np.ndarray, settings: dict[str, Any], words: sparse.csr_matrix | None = None
) -> str:
    """A hash naming a layout completely: the rows' bytes, words, settings, versions."""
    digest = hashlib.sha256()
    rows = np.ascontiguousarray(x, dtype=np.float32)
    digest.update(str(rows.shape).encode())
    digest.update(memoryview(rows).cast("B"))
    if words is not None:
        for part in (words.indptr, words.indices, words.data):
            digest.update(memoryview(np.ascontiguousarray(part)).cast("B"))
    described = {
        **settings,
        "umap-learn": version("umap-learn"),
        "scikit-learn": version("scikit-learn"),
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()


@keras.saving.register_keras_serializable(package="netflix_dec")
class NeighbourSpace(keras.layers.Layer):
    """Place rows by the UMAP positions of their nearest fitted titles.

    ``landmarks`` are the fitted titles' unit-length features, ``positions``
    their UMAP positions. A row's output is the mean of the positions of its
    ``k`` most cosine-similar landmarks, weighted by
    ``exp((s - s_max) / temperature)``: with a small temperature the nearest
    dominates, so a fitted title lands next to its own position. Rows do not
    interact: the output of a row is the same in any batch and any order.
    The weights are not trainable (DEC trains its centroids only).
    """

    def __init__(
        self,
        n_landmarks: int,
        n_features: int,
        n_components: int,
        k: int,
        temperature: float,
        followed_change: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Share of titles new or gone since the layout was fitted, summed over
        # the retrains that followed it (netflix_dec.space_follow); 0 when fitted.
        self.followed_change = float(followed_change)
        self.n_landmarks = int(n_landmarks)
        self.n_features = int(n_features)
        self.n_components = int(n_components)
        self.k = int(min(k, n_landmarks))
        self.temperature = float(temperature)
        self.landmarks = self.add_weight(
            name="landmarks",
            shape=(self.n_landmarks, self.n_features),
            initializer="zeros",
            trainable=False,
        )
        self.positions = self.add_weight(
            name="positions",
            shape=(self.n_landmarks, self.n_components),
            initializer="zeros",
            trainable=False,
        )

    def call(self, inputs: Any) -> Any:
        ops = keras.ops
        rows = inputs / ops.maximum(
            ops.sqrt(ops.sum(ops.square(inputs), axis=1, keepdims=True)), 1e-12
        )
        similarity = ops.matmul(rows, ops.transpose(self.landmarks))
        nearest, index = ops.top_k(similarity, self.k, sorted=True)
        weights = ops.softmax((nearest - nearest[:, :1]) / self.temperature, axis=1)
        neighbours = ops.take(self.positions, index, axis=0)
        return ops.sum(ops.expand_dims(weights, -1) * neighbours, axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, int]:
        return (input_shape[0], self.n_components)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_landmarks": self.n_landmarks,
            "n_features": self.n_features,
            "n_components": self.n_components,
            "k": self.k,
            "temperature": self.temperature,
            "followed_change": self.followed_change,
        }


def build_space_encoder(
    landmarks: np.ndarray,
    positions: np.ndarray,
    k: int,
    temperature: float,
    followed_change: float = 0.0,
) -> keras.Model:
    """The Keras encoder features → clustering space (see :class:`NeighbourSpace`).

    Args:
        landmarks: The fitted titles' features (normalised here).
        positions: Their UMAP positions, one row each.
        k: Landmarks each row is placed by (UMAP's ``n_neighbors``).
        temperature: Of the similarity weights; smaller trusts the nearest more.
        followed_change: Share of titles new or gone since the layout was
            fitted, when it was carried over rather than fitted (kept in the
            model, so that successive retrains add up).
    """
    if landmarks.shape[0] != positions.shape[0]:
        raise ValueError(
            f"{landmarks.shape[0]} landmarks but {positions.shape[0]} positions."
        )
    inputs = keras.Input(shape=(landmarks.shape[1],), name="features")
    layer = NeighbourSpace(
        landmarks.shape[0],
        landmarks.shape[1],
        positions.shape[1],
        k,
        temperature,
        followed_change,
        name=EMBEDDING_LAYER,
    )
    outputs = layer(inputs)
    layer.set_weights([unit_rows(landmarks), np.asarray(positions, np.float32)])
    return keras.Model(inputs, outputs, name="encoder")
