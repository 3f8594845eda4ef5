"""What the encoding pipeline hands on: one row of features per title.

The one name for a feature matrix, used by the library modules, the datasets
and the node signatures alike. TF-IDF features are a SciPy sparse matrix
(100,000 titles × 10,000 words would be 4 GB dense); sentence and sequence
features are a dense NumPy array. Kept free of Kedro and TensorFlow imports so
that every module can name it without paying for either.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

FeatureMatrix = np.ndarray | sparse.spmatrix | sparse.sparray
"""Titles × features, dense (``np.ndarray``) or SciPy sparse (CSR in practice)."""
