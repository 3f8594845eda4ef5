"""The feature-matrix type every stage hands on, and stacking its rows.

:data:`FeatureMatrix` is the one name for one row of features per title, used
by the encoders, the storage modules and the node signatures alike. TF-IDF
features are a SciPy sparse matrix (100,000 titles × 10,000 words would be
4 GB dense); sentence and sequence features are a dense NumPy array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

FeatureMatrix = np.ndarray | sparse.spmatrix | sparse.sparray
"""Titles × features, dense (``np.ndarray``) or SciPy sparse (CSR in practice)."""


def stack_rows(parts: Sequence[FeatureMatrix]) -> FeatureMatrix:
    """Rows of several matrices as one, sparse kept sparse; one part is not copied."""
    if len(parts) == 1:
        return parts[0]
    if sparse.issparse(parts[0]):
        return sparse.vstack(parts, format="csr")
    return np.concatenate(parts)
