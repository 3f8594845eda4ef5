"""projection.map_key: equal keys exactly for equal maps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from netflix_dec import projection


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)


def test_the_same_rows_and_settings_give_the_same_key(rows):
    key = projection.map_key(rows, 30, 500, 42)
    assert projection.map_key(rows.copy(), 30, 500, 42) == key
    as_sparse = sparse.csr_matrix(rows)
    assert projection.map_key(as_sparse, 30, 500, 42) == projection.map_key(
        sparse.csr_matrix(rows.copy()), 30, 500, 42
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r[:-1], 30, 500, 42),  # one title fewer
        lambda r: (r.astype(np.float64), 30, 500, 42),
        lambda r: (sparse.csr_matrix(r), 30, 500, 42),
        lambda r: (r[::-1], 30, 500, 42),  # another order
        lambda r: (r, 5, 500, 42),  # perplexity (40 rows allow up to 13)
        lambda r: (r, 30, 501, 42),
        lambda r: (r, 30, 500, 43),
    ],
)
def test_any_change_of_rows_or_settings_changes_the_key(rows, change):
    assert projection.map_key(*change(rows)) != projection.map_key(rows, 30, 500, 42)


def test_one_changed_value_changes_the_key(rows):
    changed = rows.copy()
    changed[17, 3] = np.nextafter(changed[17, 3], np.float32(np.inf))
    assert projection.map_key(changed, 30, 500, 42) != projection.map_key(
        rows, 30, 500, 42
    )


def test_a_change_of_the_fit_settings_changes_the_key(rows, monkeypatch):
    key = projection.map_key(rows, 30, 500, 42)
    monkeypatch.setitem(projection.TSNE_SETTINGS, "initialization", "random")
    assert projection.map_key(rows, 30, 500, 42) != key
