"""Similar titles: each title's nearest neighbours by cosine in the feature space.

Exact search by chunked matrix products. The titles are read in chunks of
:data:`CORPUS_ROWS` rows, each copied once as float32 and normalised (a
sparse TF-IDF chunk stays sparse); the query rows are multiplied with one
chunk at a time, and each query keeps a running top ``k``. Nothing holds all
rows at once: a million memory-mapped sentence features are a gigabyte, and
a memory-mapped ``.npz`` member is not even aligned for BLAS, which made a
product with all of it at once many times slower. The similarity block is
bounded (:data:`BLOCK_ELEMENTS` floats, 256 MB), and its top ``k`` is found
from a partitioned copy of it, without an index per entry, so memory stays
flat whatever the number of titles. The time grows with the number of query
rows times the number of titles: every title's neighbours up to some tens of
thousands of titles, those of a sample beyond (the node chooses, see
``reporting.similar_titles_max_titles``). No Kedro here.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from netflix_dec.encoders import FeatureMatrix

BLOCK_ELEMENTS = 2**26
"""Largest similarity block (query rows x rows) computed at once."""
CORPUS_ROWS = 65_536
"""Rows of the titles read, copied and normalised at a time (100 MB at 384 floats)."""


def normalise(rows: FeatureMatrix) -> np.ndarray | sparse.csr_matrix:
    """A float32 copy of ``rows`` scaled to unit length (zero rows stay zero).

    A copy even of float32 input: rows sliced from a memory-mapped file come
    back in memory, aligned.
    """
    if sparse.issparse(rows):
        from sklearn.preprocessing import normalize

        return normalize(sparse.csr_matrix(rows, dtype=np.float32), copy=True)
    unit = np.array(rows, dtype=np.float32, copy=True)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    unit /= np.where(norms > 0, norms, 1.0)
    return unit


def top_k(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest entries, the largest first, equal ones by column.

    ``np.argpartition`` would return an int64 index for every entry of the
    block (twice the block's own memory); a partitioned copy of the values
    gives each row's ``k``-th largest value, and only the entries at or above
    it are indexed.

    Returns:
        ``(columns, values)``, each of shape ``(rows, k)``.
    """
    n = block.shape[1]
    kth = np.partition(block, n - k, axis=1)[:, n - k : n - k + 1]
    rows, columns = np.nonzero(block >= kth)  # k or more a row (ties)
    values = block[rows, columns]
    order = np.lexsort((columns, -values, rows))
    rows, columns, values = rows[order], columns[order], values[order]
    take = np.searchsorted(rows, np.arange(block.shape[0]))[:, None] + np.arange(k)
    return columns[take], values[take]


def _merge(
    best: tuple[np.ndarray, np.ndarray], found: tuple[np.ndarray, np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of two ``(columns, values)`` lists per row, ties by column."""
    columns = np.concatenate([best[0], found[0]], axis=1)
    values = np.concatenate([best[1], found[1]], axis=1)
    order = np.lexsort((columns, -values), axis=1)[:, :k]
    return np.take_along_axis(columns, order, 1), np.take_along_axis(values, order, 1)


def nearest_neighbours(
    features: FeatureMatrix,
    k: int,
    block_elements: int = BLOCK_ELEMENTS,
    queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's ``k`` most similar other rows, by cosine similarity.

    A row is never its own neighbour; equal similarities are ordered by row
    number, and the result depends on nothing but the input (no randomness),
    so a run repeats. With fewer than ``k + 1`` rows, every other row is a
    neighbour.

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
    if k == 0 or len(wanted) == 0:
        return np.zeros((len(wanted), k), np.int64), np.zeros(
            (len(wanted), k), np.float32
        )
    asked = normalise(features[wanted])
    best = (
        np.full((len(wanted), k), -1, np.int64),
        np.full((len(wanted), k), -np.inf, np.float32),
    )
    width = max(1, min(n, CORPUS_ROWS, block_elements))
    step = max(1, block_elements // width)
    for first in range(0, n, width):
        chunk = normalise(features[first : first + width])
        for start in range(0, len(wanted), step):
            block = asked[start : start + step] @ chunk.T
            block = block.toarray() if sparse.issparse(block) else np.asarray(block)
            own = wanted[start : start + step] - first
            inside = np.nonzero((own >= 0) & (own < chunk.shape[0]))[0]
            block[inside, own[inside]] = -np.inf  # a title is not its own neighbour
            columns, values = top_k(block, min(k, chunk.shape[0]))
            rows = slice(start, start + len(own))
            best_rows = (best[0][rows], best[1][rows])
            merged = _merge(best_rows, (columns + first, values), k)
            best[0][rows], best[1][rows] = merged
    return best
