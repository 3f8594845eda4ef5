"""projection.map_key: equal keys exactly for equal maps."""

from __future__ import annotations

import subprocess
import sys

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


@pytest.mark.parametrize(
    "setting, value",
    [
        ("SHRINK_CHECKS", 0),
        ("SETTLED_WITHIN", 0.05),
        ("EXACT_NEIGHBOURS_BELOW", 0),
        ("EXAGGERATION", 4),
        ("REDUCTION", "TruncatedSVD"),
    ],
)
def test_a_change_of_the_schedule_or_neighbours_changes_the_key(
    rows, monkeypatch, setting, value
):
    key = projection.map_key(rows, 30, 500, 42)
    monkeypatch.setattr(projection, setting, value)
    assert projection.map_key(rows, 30, 500, 42) != key


@pytest.mark.parametrize("as_sparse", [False, True])
def test_reduction_keeps_the_distances_of_rows_of_low_rank(as_sparse):
    rng = np.random.default_rng(1)
    basis = rng.normal(size=(10, 80))
    train, new = rng.normal(size=(120, 10)) @ basis, rng.normal(size=(7, 10)) @ basis
    convert = sparse.csr_matrix if as_sparse else np.asarray
    reduced, reduced_new = projection.reduce(convert(train), convert(new), seed=0)
    assert reduced.shape == (120, projection.MAX_INPUT_DIMS)
    for a, b, ra, rb in (
        (train, train, reduced, reduced),
        (new, train, reduced_new, reduced),
    ):
        distances = np.linalg.norm(a[:, None] - b[None], axis=2)
        kept = np.linalg.norm(ra[:, None] - rb[None], axis=2)
        np.testing.assert_allclose(kept, distances, rtol=1e-6, atol=1e-6)


def test_exaggeration_ends_early_where_it_only_shrinks_the_map(caplog):
    """Noise has no groups to pull apart: the exaggerated phase stops at once.

    Well-separated groups grow apart under exaggeration: the phase runs its
    full length and the map keeps the groups apart.
    """
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(300, 20))
    centres = rng.normal(scale=10.0, size=(4, 20))
    groups = np.repeat(np.arange(4), 75)
    blobs = centres[groups] + rng.normal(size=(300, 20))
    with caplog.at_level("INFO", logger="netflix_dec.projection"):
        noise_map = projection.fit(noise, 30, 500, 42)
    assert "Early exaggeration ended after 20 of 250 iterations" in caplog.text
    np.testing.assert_allclose(
        projection.fit(noise, 30, 500, 42), noise_map, rtol=1e-5, atol=1e-4
    )

    caplog.clear()
    with caplog.at_level("INFO", logger="netflix_dec.projection"):
        blob_map = projection.fit(blobs, 30, 500, 42)
    assert "Early exaggeration ended" not in caplog.text
    distances = np.linalg.norm(blob_map[:, None] - blob_map[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (groups[distances.argmin(axis=1)] == groups).all()


def test_affinities_are_opentsnes_exact_ones_without_importing_pynndescent():
    """The index is built here, so openTSNE never imports pynndescent to look for it.

    A fresh process: the assign pipeline places new titles on the map without
    UMAP, and openTSNE's own ``method="exact"`` imported pynndescent (2.4 s of
    numba start-up) only to check that it is installed.
    """
    probe = """
import sys
import numpy as np
from openTSNE.affinity import PerplexityBasedNN
from netflix_dec import projection

rows = np.random.default_rng(0).normal(size=(200, 6))
ours = projection._affinities(rows, 10.0, 3)
assert "pynndescent" not in sys.modules, "pynndescent imported"
theirs = PerplexityBasedNN(rows, perplexity=10.0, method="exact", n_jobs=1, random_state=3)
assert (ours.P != theirs.P).nnz == 0, "affinities differ"
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


@pytest.mark.parametrize(
    "spreads, stopped_at, why",
    [
        # Grows while the groups form, then changes by under 1% twice: settled.
        ([1e-3, 0.1, 1.5, 2.0, 2.085, 2.092, 2.094, 2.2], 60, "settled"),
        # Keeps growing by more than 1% a check: the full phase.
        ([1e-3, 0.1, 1.5, 2.0, 2.1, 2.2, 2.3, 2.4], None, ""),
        # Only shrinks: ended at the second shrink in a row.
        ([1e-4, 9e-5, 8e-5, 7e-5], 20, "shrank"),
        # Down once, then up: neither rule.
        ([1.0, 0.9, 1.2, 1.5, 1.9], None, ""),
    ],
)
def test_early_exaggeration_ends_once_the_map_only_shrinks_or_has_settled(
    spreads, stopped_at, why
):
    rng = np.random.default_rng(0)
    shape = rng.normal(size=(50, 2))
    shape /= shape.std()
    rule = projection._Exaggerated(spreads[0] * shape)
    stopped = None
    for check, spread in enumerate(spreads[1:], start=1):
        if rule(check * projection.CHECK_EVERY, 0.0, spread * shape):
            stopped = check * projection.CHECK_EVERY
            break
    assert stopped == stopped_at and rule.stopped_at == stopped_at
    assert why in rule.why
