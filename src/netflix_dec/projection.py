"""2-D t-SNE maps with openTSNE, and new points placed on an existing map.

openTSNE rather than scikit-learn's t-SNE because its embeddings can place new
points (``TSNEEmbedding.transform``): the training titles keep their positions
and a new title lands next to its nearest training titles, optimised against
them only. Nothing is pickled: ``transform`` needs the training input (kept
by the pipelines anyway), the 2-D positions (in the points table) and the
settings, from which :func:`place_new` rebuilds the neighbour index.

Every input is checked first: t-SNE of identical rows, of a handful of rows or
of non-finite values is meaningless (and crashed scikit-learn's
implementation), so :func:`why_not_projectable` names the reason and callers
skip the map instead of failing. No Kedro here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

MIN_POINTS = 5
"""Fewest rows t-SNE is run on: below, a perplexity of 1 has no neighbours."""
MAX_INPUT_DIMS = 50
"""Wider inputs are reduced first (:func:`reduce`), as openTSNE's docs advise."""
FFT_FROM = 5_000
"""Maps of this many rows or more use FFT-interpolated gradients, smaller ones
Barnes-Hut. openTSNE's own switch is at 10,000, but on the real catalogue's map
(6,131 titles) FFT took less than half the CPU of Barnes-Hut (median 3.4 s
against 8.1 s) for a lower KL divergence to the input's affinities (3.51
against 3.56), while at 2,000 titles Barnes-Hut was as fast or faster (2.2 s
against 2.3 s): FFT's grid never has fewer than 50 cells a side, however
small the map."""
METHOD = "openTSNE (Barnes-Hut below 5,000 titles, FFT above; PCA initialisation)"
REDUCTION = "PCA of dense rows, TruncatedSVD of sparse ones"
"""How :func:`reduce` narrows wide rows; part of :func:`map_key`."""

Matrix = np.ndarray | sparse.csr_matrix


class MapStore(Protocol):
    """Where a map is kept between runs (the project's ``MapCache`` dataset)."""

    path: Path

    def lookup(self, key: str, rows: int) -> np.ndarray | None: ...

    def store(self, key: str, positions: np.ndarray) -> None: ...


def _one_blas_thread():
    """BLAS held to one thread while the map is made.

    The map's products (a 384 × 384 covariance, the distances of a few
    thousand rows) are too small to share: on a busy 2-core machine two BLAS
    threads spend their time waiting for each other. The PCA of the real
    catalogue's map took 0.06 s of CPU against 0.03 s on one thread, and
    2.4 s when the machine was busiest; the whole map 4.3 s against 3.4 s,
    the same positions.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def why_not_projectable(data: Matrix) -> str | None:
    """The reason t-SNE cannot map these rows, or None when it can."""
    n = data.shape[0]
    if n < MIN_POINTS:
        return f"t-SNE needs at least {MIN_POINTS} titles, got {n}"
    values = data.data if sparse.issparse(data) else np.asarray(data)
    if not np.isfinite(values).all():
        return "the input holds NaN or infinite values"
    dense = (
        data.toarray() if sparse.issparse(data) and n * data.shape[1] < 5e7 else data
    )
    if sparse.issparse(dense):
        spread = np.asarray(dense.power(2).mean(axis=0) - np.square(dense.mean(axis=0)))
    else:
        spread = np.var(np.asarray(dense, dtype=np.float64), axis=0)
    if not (spread > 1e-12).any():
        return f"all {n} titles have the same input (every description alike?)"
    return None


def perplexity_for(n_points: int, wanted: float) -> float:
    """The wanted perplexity, lowered so each point has 3 × perplexity neighbours."""
    return float(max(1.0, min(wanted, (n_points - 1) / 3)))


def reduce(
    train: Matrix, new: Matrix | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows as dense float64 of at most :data:`MAX_INPUT_DIMS` columns.

    Both reductions are fitted on ``train`` only and seeded (a refit on the same
    rows gives the same components). TruncatedSVD keeps sparse TF-IDF sparse
    until it is reduced; dense rows get scikit-learn's PCA, whose default
    solver for tall, narrow rows (the sentence and DEC embeddings) diagonalises
    the small covariance matrix: exact, an eighth of TruncatedSVD's randomised
    CPU time on the real catalogue's map with one BLAS thread (0.03 s against
    0.24 s), and centring changes no distance t-SNE sees.
    """
    if sparse.issparse(train) or train.shape[1] > MAX_INPUT_DIMS:
        from sklearn.decomposition import PCA, TruncatedSVD

        components = max(1, min(MAX_INPUT_DIMS, train.shape[1] - 1, train.shape[0] - 1))
        method = TruncatedSVD if sparse.issparse(train) else PCA
        logger.info(
            "Reducing %d dimensions to %d with %s before t-SNE.",
            train.shape[1],
            components,
            method.__name__,
        )
        with _one_blas_thread():
            model = method(components, random_state=seed).fit(train)
            return (
                model.transform(train).astype(np.float64),
                None if new is None else model.transform(new).astype(np.float64),
            )
    as_dense = lambda m: np.asarray(  # noqa: E731
        m.toarray() if sparse.issparse(m) else m, dtype=np.float64
    )
    return as_dense(train), None if new is None else as_dense(new)


PLACE_ITERATIONS = 100
"""Optimisation steps of new points against the fixed map. On the real
catalogue (1,000 new titles, a map about 100 units wide) positions after 100
steps differ from those after openTSNE's default 250 by a median of 0.001
units, at 40% of the time; after 50 steps by 0.06."""


EXACT_NEIGHBOURS_BELOW = 25_000
"""Maps of fewer rows find each row's neighbours by brute force, larger ones
with openTSNE's approximate (Annoy) index. Brute force grows with the square
of the rows but is exact, repeatable and, on the real catalogue's reduced rows
(50 dimensions), took a quarter to a third of Annoy's CPU time: 0.5 s against
2.0 s at 6,131 rows, 3.8 s against 10.3 s at 24,000."""


def _affinities(data: np.ndarray, perplexity: float, seed: int):
    """openTSNE's perplexity affinities, from a neighbour index built here.

    The index is the one openTSNE's ``method="exact"`` (or ``"annoy"``) would
    build, with as many neighbours (3 × perplexity). It is passed in as
    ``knn_index`` because openTSNE, given a method name, first checks whether
    pynndescent is installed by importing it: 2.4 s of numba start-up in a
    process that has not imported UMAP (the assign pipeline), for an index it
    does not use.
    """
    from openTSNE import nearest_neighbors
    from openTSNE.affinity import PerplexityBasedNN

    index = (
        nearest_neighbors.Sklearn
        if data.shape[0] < EXACT_NEIGHBOURS_BELOW
        else nearest_neighbors.Annoy
    )
    neighbours = min(data.shape[0] - 1, int(3 * perplexity))
    return PerplexityBasedNN(
        perplexity=perplexity,
        knn_index=index(data, neighbours, n_jobs=1, random_state=seed),
    )


TSNE_SETTINGS = {
    "initialization": "pca",
    # Two threads took more CPU and more wall time than one on a busy 2-core
    # machine (with exact neighbours the map is the same).
    "n_jobs": 1,
    # FFT grid cells 2 map units wide instead of openTSNE's 1: a quarter of the
    # grid, whose cost grows with the map's area. On the real catalogue's map
    # 40% less CPU (3.4 s against 5.5 s) for a KL divergence 0.35% higher,
    # as many neighbours kept and the same picture.
    "ints_in_interval": 2,
}
"""What :func:`fit` passes to openTSNE besides perplexity, iterations and seed;
part of :func:`map_key`, so a change here makes every stored map stale."""

EXAGGERATION = 12
"""openTSNE's (and scikit-learn's) early exaggeration factor."""
SHRINK_CHECKS = 2
"""The exaggerated phase ends once the map's spread, looked at every
:data:`CHECK_EVERY` iterations, has shrunk this many times in a row (0: never
ends early). Exaggeration multiplies the attraction between neighbours; on
catalogues without well-separated groups (the real one's sentence features
and the autoencoder's embeddings) it outweighs the repulsion at every scale,
and the map only shrinks to a point (from a spread of 1e-4 to 1e-7 in
openTSNE's 250 steps) that the normal phase must first grow back from.
Stopping at the first signs (20 steps there) took 2.6 s less CPU on the real
catalogue's map (3.4 s against 6.0 s) for a lower KL divergence (3.51 against
3.58) and as many neighbours kept."""
SETTLED_WITHIN = 0.01
"""The exaggerated phase also ends once the spread has changed by less than
this share at :data:`SHRINK_CHECKS` checks in a row: the groups exaggeration
pulls apart have formed. In the UMAP space (well-separated groups) the map
grows from 1e-3 to a spread of 2.09 in 60 steps and to 2.26 in the other 190,
while the exaggerated KL divergence goes from 3.41 to 3.405. Ending there
(step 70) took a third less CPU on the real catalogue's map (8.9-9.4 s
against 13.2-14.3 s, seeds 0-2) for the same KL divergence (1.076-1.084
against 1.076-1.082), the same neighbours kept (0.192 of 15) and a higher
silhouette of the clusters on the map (0.289-0.292 against 0.263-0.275).
Groups that keep moving apart by more than this (the tests' blobs) run the
full phase. An adaptive end of early exaggeration is what opt-SNE (Belkina et
al., 2019) does with the KL divergence; the spread is cheaper to watch."""
CHECK_EVERY = 10


class _Exaggerated:
    """openTSNE callback: True (stop) once the map only shrinks or has settled.

    See :data:`SHRINK_CHECKS` and :data:`SETTLED_WITHIN`; ``why`` says which.
    """

    def __init__(self, start: np.ndarray) -> None:
        self.spreads = [float(np.std(start))]
        self.stopped_at: int | None = None
        self.why = ""

    def __call__(self, iteration: int, error: float, embedding: np.ndarray) -> bool:
        self.spreads.append(float(np.std(embedding)))
        recent = self.spreads[-SHRINK_CHECKS - 1 :]
        if len(recent) <= SHRINK_CHECKS or SHRINK_CHECKS == 0:
            return False
        steps = list(zip(recent, recent[1:], strict=False))
        if all(later < earlier for earlier, later in steps):
            self.why = "it only shrank the map"
        elif all(
            abs(later - earlier) < SETTLED_WITHIN * earlier for earlier, later in steps
        ):
            self.why = "the map had settled"
        else:
            return False
        self.stopped_at = iteration
        return True


def fit(data: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """2-D positions of checked, reduced rows (see :func:`reduce`).

    ``max_iter`` budgets every iteration, the early exaggeration phase
    included (as scikit-learn's ``max_iter`` does): up to ``min(250,
    max_iter // 2)`` exaggerated (fewer when the map only shrinks or has
    settled, see :data:`SHRINK_CHECKS` and :data:`SETTLED_WITHIN`), then the
    rest of the budget normal, however early the exaggerated phase ended.
    """
    from openTSNE import TSNE

    perplexity = perplexity_for(data.shape[0], perplexity)
    early = min(250, max_iter // 2)
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        negative_gradient_method="fft" if data.shape[0] >= FFT_FROM else "bh",
        random_state=seed,
        **TSNE_SETTINGS,
    )
    with _one_blas_thread():
        embedding = tsne.prepare_initial(data, _affinities(data, perplexity, seed))
        exaggerated = _Exaggerated(embedding)
        embedding = embedding.optimize(
            early,
            exaggeration=EXAGGERATION,
            momentum=tsne.initial_momentum,
            callbacks=[exaggerated],
            callbacks_every_iters=CHECK_EVERY,
            inplace=True,
        )
        embedding = embedding.optimize(
            max_iter - early, momentum=tsne.final_momentum, inplace=True
        )
    if exaggerated.stopped_at is not None:
        logger.info(
            "Early exaggeration ended after %d of %d iterations: %s.",
            exaggerated.stopped_at,
            early,
            exaggerated.why,
        )
    return np.asarray(embedding, dtype=np.float64)


def map_key(data: Matrix, perplexity: float, max_iter: int, seed: int) -> str:
    """A name for the map :func:`reduce` then :func:`fit` make of ``data``.

    Equal keys mean equal maps: the key hashes the rows' bytes (their shape,
    type and, for sparse rows, their structure) together with every setting
    that changes the map, the versions of the libraries that compute it
    included. A stored map is reused only under its exact key.
    """
    sparse_input = sparse.issparse(data)
    settings = {
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "sparse": sparse_input,
        "perplexity": perplexity_for(data.shape[0], perplexity),
        "max_iter": max_iter,
        "seed": seed,
        "max_input_dims": MAX_INPUT_DIMS,
        "tsne": TSNE_SETTINGS,
        "fft_from": FFT_FROM,
        "reduction": REDUCTION,
        "exact_neighbours_below": EXACT_NEIGHBOURS_BELOW,
        "exaggeration": EXAGGERATION,
        "shrink_checks": [SHRINK_CHECKS, CHECK_EVERY],
        "settled_within": SETTLED_WITHIN,
        "versions": {name: version(name) for name in ("openTSNE", "scikit-learn")},
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    if sparse_input:
        csr = sparse.csr_matrix(data, copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        parts = (csr.indptr, csr.indices, csr.data)
    else:
        parts = (np.asarray(data),)
    for part in parts:
        digest.update(np.ascontiguousarray(part).data)
    return digest.hexdigest()


def place_new(
    train: np.ndarray,
    positions: np.ndarray,
    new: np.ndarray,
    perplexity: float,
    seed: int,
) -> np.ndarray:
    """Positions of new rows on the map of ``train`` (which does not move).

    Args:
        train: The reduced rows the map was fitted on, in the map's order.
        positions: Their 2-D positions.
        new: New rows, reduced the same way.
        perplexity: The map's perplexity (lowered for few points as in :func:`fit`).
        seed: The map's seed.

    Returns:
        One 2-D position per new row.
    """
    from openTSNE import TSNEEmbedding

    perplexity = perplexity_for(train.shape[0], perplexity)
    with _one_blas_thread():
        embedding = TSNEEmbedding(
            positions,
            _affinities(train, perplexity, seed),
            negative_gradient_method="auto",
            n_jobs=1,
            random_state=seed,
        )
        placed = embedding.transform(
            new, perplexity=min(perplexity, 5.0), n_iter=PLACE_ITERATIONS
        )
    return np.asarray(placed, dtype=np.float64)


def map_of(
    data: Matrix,
    perplexity: float,
    max_iter: int,
    seed: int,
    cache: MapStore | None = None,
    source: str = "rows",
) -> tuple[np.ndarray | None, str | None]:
    """The t-SNE map of ``data``, or why there is none.

    With ``cache``, a map of the very same rows and settings made by an
    earlier run is reused instead of refitted (t-SNE is the slowest step of a
    re-run, and a new ``n_clusters`` often leaves what it maps unchanged);
    any other map is fitted and stored for the next run.

    Args:
        data: The rows to map (reduced first, see :func:`reduce`).
        perplexity: t-SNE's perplexity (see :func:`perplexity_for`).
        max_iter: t-SNE's iterations.
        seed: Seed of the reduction and of t-SNE.
        cache: Where maps are kept between runs, or None.
        source: What the rows are, for the log ("pretrained embeddings").

    Returns:
        The positions (rows × 2) and None, or None and the reason
        (:func:`why_not_projectable`).
    """
    skipped = why_not_projectable(data)
    if skipped is not None:
        return None, skipped
    key = None
    if cache is not None:
        key = map_key(data, perplexity, max_iter, seed)
        positions = cache.lookup(key, rows=data.shape[0])
        if positions is not None:
            logger.info(
                "Reused the t-SNE map of %d titles from the %s stored in %s by an "
                "earlier run: same input and settings (key %s).",
                data.shape[0],
                source,
                cache.path,
                key[:12],
            )
            return positions, None
    reduced, _ = reduce(data, seed=seed)
    skipped = why_not_projectable(reduced)
    if skipped is not None:
        return None, skipped
    logger.info(
        "t-SNE of %d titles from the %s (perplexity %g, %d iterations).",
        data.shape[0],
        source,
        perplexity,
        max_iter,
    )
    positions = fit(reduced, perplexity, max_iter, seed)
    if cache is not None:
        cache.store(key, positions)
    return positions, None


def place_on_map(
    train: Matrix,
    positions: np.ndarray,
    new: Matrix,
    perplexity: float,
    seed: int,
) -> np.ndarray:
    """New rows' positions on a fixed map of ``train`` (reduced as the map's input was).

    Args:
        train: The rows the map was made of, in the map's order.
        positions: Their positions on the map.
        new: The rows to place.
        perplexity: The map's perplexity.
        seed: The map's seed.
    """
    reduced_train, reduced_new = reduce(train, new, seed=seed)
    return place_new(reduced_train, positions, reduced_new, perplexity, seed)
