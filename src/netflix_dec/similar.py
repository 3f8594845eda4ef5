"""Similar titles: each title's nearest neighbours by cosine in the feature space.

Exact search by chunked matrix products: the rows are normalised once (a
sparse TF-IDF matrix stays sparse, a memory-mapped dense array is copied as
float32 in chunks), then each chunk of query rows is multiplied with all rows
and only its top ``k`` kept. The similarity block of one chunk is bounded
(:data:`BLOCK_ELEMENTS` floats, 256 MB), so memory stays flat whatever the
number of titles; the time grows with the number of query rows times the
number of titles: every title's neighbours up to some tens of thousands of
titles, those of a sample beyond (the node chooses, see
``reporting.similar_titles_max_titles``). No Kedro here.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from netflix_dec.encoders import FeatureMatrix

BLOCK_ELEMENTS = 2**26
"""Largest similarity block (query rows x all rows) computed at once."""
NORMALISE_ROWS = 65_536
"""Rows of a dense input normalised at a time."""


def normalise(features: FeatureMatrix) -> np.ndarray | sparse.csr_matrix:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    if sparse.issparse(features):
        from sklearn.preprocessing import normalize

        return normalize(sparse.csr_matrix(features, dtype=np.float32), copy=True)
    unit = np.empty(features.shape, dtype=np.float32)
    for start in range(0, features.shape[0], NORMALISE_ROWS):
        rows = np.asarray(features[start : start + NORMALISE_ROWS], dtype=np.float32)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit[start : start + len(rows)] = rows / np.where(norms > 0, norms, 1.0)
    return unit


def nearest_neighbours(
    features: FeatureMatrix,
    k: int,
    block_elements: int = BLOCK_ELEMENTS,
    queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's ``k`` most similar other rows, by cosine similarity.

    A row is never its own neighbour; the result depends on nothing but the
    input (no randomness), so a run repeats. With fewer than ``k + 1`` rows,
    every other row is a neighbour.

    Args:
        features: One row per title, dense (possibly memory-mapped) or sparse.
        k: Neighbours per row.
        block_elements: Largest query-rows x rows block held at once.
        queries: Row numbers whose neighbours are wanted (among all rows);
            None: every row. The time grows with ``len(queries) x rows``.

    Returns:
        ``(indices, similarities)``, each of shape ``(len(queries), min(k, n - 1))``,
        the most similar first.
    """
    n = features.shape[0]
    wanted = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64)
    k = max(0, min(k, n - 1))
    indices = np.zeros((len(wanted), k), dtype=np.int64)
    similarities = np.zeros((len(wanted), k), dtype=np.float32)
    if k == 0 or len(wanted) == 0:
        return indices, similarities
    unit = normalise(features)
    step = max(1, block_elements // n)
    for start in range(0, len(wanted), step):
        rows = wanted[start : start + step]
        block = unit[rows] @ unit.T
        block = block.toarray() if sparse.issparse(block) else np.asarray(block)
        block[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(block, top, axis=1)
        # Most similar first, equal scores by row number (lexsort's last key leads).
        order = np.lexsort((top, -scores), axis=1)
        indices[start : start + len(rows)] = np.take_along_axis(top, order, axis=1)
        similarities[start : start + len(rows)] = np.take_along_axis(
            scores, order, axis=1
        )
    return indices, similarities
