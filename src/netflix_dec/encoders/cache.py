"""What an encoder asks of a feature cache, and what the cache answers.

:meth:`netflix_dec.encoders.TextEncoder.encode` takes any object with
``lookup`` and ``store`` (:class:`RowCache`): the project's content-addressed
store (:class:`netflix_dec.storage.caches.FeatureCache`), a served model's
empty one, or a test's dictionary. So the encoders import no storage and no
Kedro; the storage imports :class:`CacheLookup` and :class:`CachedRows` from
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse

from netflix_dec.encoders.matrix import FeatureMatrix


class CacheLookup(NamedTuple):
    """What a :class:`RowCache` found for a list of keys."""

    found: np.ndarray
    """Boolean mask over the keys asked for: True where a row was cached."""
    rows: FeatureMatrix | None
    """The cached rows of the found keys, in the order asked for (None: none found)."""
    missing: list[str]
    """The keys without a cached row, in the order asked for."""


class CachedRows(BaseModel):
    """What a feature cache's rows must be for one text encoder.

    A shard edited, damaged or written by another version could hold rows of
    another width, dtype or sparsity, or NaNs; used as they are, they would
    fail far away (a Keras shape error) or cluster garbage without a word.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int | None = Field(default=None, ge=1)
    """Columns per row; None when the encoder does not record it."""
    sparse: bool
    """TF-IDF rows are CSR sparse; the others dense."""
    dtype: str = "float32"

    def problem(self, rows: Any) -> str | None:
        """What is wrong with ``rows``, or None when they fit."""
        is_sparse = sparse.issparse(rows)
        if not is_sparse and not isinstance(rows, np.ndarray):
            return f"a {type(rows).__name__}, not an array"
        expected = "sparse" if self.sparse else "dense"
        checks = (
            (is_sparse == self.sparse, lambda: f"not {expected} rows"),
            (rows.ndim == 2, lambda: f"{rows.ndim}-D rows, expected 2-D"),
            (
                self.width is None or rows.ndim != 2 or rows.shape[1] == self.width,
                lambda: f"{rows.shape[1]} columns, expected {self.width}",
            ),
            (
                rows.dtype == np.dtype(self.dtype),
                lambda: f"dtype {rows.dtype}, expected {self.dtype}",
            ),
        )
        for fits, message in checks:
            if not fits:
                return message()
        values = rows.data if is_sparse else rows
        if not np.isfinite(values).all():
            return "values that are not finite (NaN or infinite)"
        return None


class RowCache(Protocol):
    """Feature rows by key: what :meth:`TextEncoder.encode` reads and extends."""

    def lookup(
        self, keys: Sequence[str], expected: CachedRows | None = None
    ) -> CacheLookup:
        """The cached rows of ``keys`` (checked against ``expected``) and the rest."""
        ...

    def store(self, keys: Sequence[str], rows: FeatureMatrix) -> Any:
        """Keep ``rows`` under ``keys`` for later lookups."""
        ...
