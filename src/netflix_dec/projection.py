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

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

MIN_POINTS = 5
"""Fewest rows t-SNE is run on: below, a perplexity of 1 has no neighbours."""
MAX_INPUT_DIMS = 50
"""Wider inputs are reduced with TruncatedSVD first, as openTSNE's docs advise."""
FFT_FROM = 5_000
"""Maps of this many rows or more use FFT-interpolated gradients, smaller ones
Barnes-Hut. openTSNE's own switch is at 10,000, but on the real catalogue's map
(6,131 titles) FFT took a quarter less CPU than Barnes-Hut (median 11.5 s
against 15.4 s) with a lower KL divergence (2.94 against 2.97), while at 2,000
titles Barnes-Hut was faster (3.8 s against 6.5 s): FFT has a fixed cost of
about 4 s."""
METHOD = "openTSNE (Barnes-Hut below 5,000 titles, FFT above; PCA initialisation)"

Matrix = np.ndarray | sparse.csr_matrix


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

    TruncatedSVD (fitted on ``train`` only, seeded: a refit on the same rows
    gives the same components) keeps sparse TF-IDF sparse until it is reduced.
    """
    if sparse.issparse(train) or train.shape[1] > MAX_INPUT_DIMS:
        from sklearn.decomposition import TruncatedSVD

        components = max(1, min(MAX_INPUT_DIMS, train.shape[1] - 1, train.shape[0] - 1))
        logger.info(
            "Reducing %d dimensions to %d with TruncatedSVD before t-SNE.",
            train.shape[1],
            components,
        )
        svd = TruncatedSVD(components, random_state=seed).fit(train)
        return (
            svd.transform(train).astype(np.float64),
            None if new is None else svd.transform(new).astype(np.float64),
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


def _affinities(data: np.ndarray, perplexity: float, seed: int):
    # Exact neighbours: for the map's at most max_points rows a brute-force
    # search is faster than building an approximate index, and deterministic.
    from openTSNE.affinity import PerplexityBasedNN

    return PerplexityBasedNN(
        data, perplexity=perplexity, method="exact", n_jobs=1, random_state=seed
    )


TSNE_SETTINGS = {
    "initialization": "pca",
    "neighbors": "annoy",
    # Two threads were slower than one on a busy 2-core machine, and the map
    # is then no longer the same as one thread's.
    "n_jobs": 1,
}
"""What :func:`fit` passes to openTSNE besides perplexity, iterations and seed;
part of :func:`map_key`, so a change here makes every stored map stale."""


def fit(data: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """2-D positions of checked, reduced rows (see :func:`reduce`).

    ``max_iter`` counts every iteration, the early exaggeration phase
    included (as scikit-learn's ``max_iter`` does).
    """
    from openTSNE import TSNE

    early = min(250, max_iter // 2)
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity_for(data.shape[0], perplexity),
        early_exaggeration_iter=early,
        n_iter=max_iter - early,
        negative_gradient_method="fft" if data.shape[0] >= FFT_FROM else "bh",
        random_state=seed,
        **TSNE_SETTINGS,
    )
    return np.asarray(tsne.fit(data), dtype=np.float64)


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
