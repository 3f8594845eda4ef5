"""Similar titles: each title's nearest neighbours by cosine in the feature space.

Exact search by chunked matrix products: the rows are normalised once (a
sparse TF-IDF matrix stays sparse, a memory-mapped dense array is copied as
float32 in chunks), then each chunk of query rows is multiplied with all rows
and only its top ``k`` kept. The similarity block of one chunk is bounded
(:data:`BLOCK_ELEMENTS` floats, 256 MB), so memory stays flat whatever the
number of titles; the time grows with its square (see the README's figures).
No Kedro here.
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
    features: FeatureMatrix, k: int, block_elements: int = BLOCK_ELEMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar other rows, by cosine similarity.

    A row is never its own neighbour; the result depends on nothing but the
    input (no randomness), so a run repeats. With fewer than ``k + 1`` rows, every other row is a
    neighbour.

    Args:
        features: One row per title, dense (possibly memory-mapped) or sparse.
        k: Neighbours per row.
        block_elements: Largest query-rows x rows block held at once.

    Returns:
        ``(indices, similarities)``, each of shape ``(n, min(k, n - 1))``,
        the most similar first.
    """
    n = features.shape[0]
    k = max(0, min(k, n - 1))
    indices = np.zeros((n, k), dtype=np.int64)
    similarities = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return indices, similarities
    unit = normalise(features)
    step = max(1, block_elements // n)
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = unit[start:stop] @ unit.T
        block = block.toarray() if sparse.issparse(block) else np.asarray(block)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(block, top, axis=1)
        # Most similar first, equal scores by row number (lexsort's last key leads).
        order = np.lexsort((top, -scores), axis=1)
        indices[start:stop] = np.take_along_axis(top, order, axis=1)
        similarities[start:stop] = np.take_along_axis(scores, order, axis=1)
    return indices, similarities
