"""Feature rows computed once per description and setting (features + FeatureCache)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from netflix_dec import encoders
from netflix_dec.encoders import words
from netflix_dec.storage.caches import FeatureCache

TEXTS = [
    "A detective hunts a killer in a rainy city.",
    "Two friends open a bakery in Paris.",
    "A young wizard goes to school.",
    "Two friends open a bakery in Paris.",  # a duplicate description
    "Astronauts are stranded on Mars.",
]


@pytest.fixture
def tfidf_state() -> dict:
    return words.fit_text_encoder(TEXTS, "tfidf", 50)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the descriptions each call actually encodes."""
    calls: list[list[str]] = []
    real = encoders.TfidfEncoder.compute

    def compute(self, descriptions, batch_size=64):
        calls.append(list(descriptions))
        return real(self, descriptions, batch_size)

    monkeypatch.setattr(encoders.TfidfEncoder, "compute", compute)
    return calls


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)


def test_a_second_run_computes_nothing_and_gives_the_same_rows(
    tmp_path: Path, tfidf_state, counted
):
    cache = FeatureCache(path=str(tmp_path / "cache"))
    first, stats = encoders.from_settings(tfidf_state).encode(TEXTS, cache)
    assert (stats.reused, stats.computed) == (0, 4)  # 4 distinct descriptions
    assert counted == [[TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[4]]]
    # A new cache object over the same folder: what a later run sees.
    again, stats = encoders.from_settings(tfidf_state).encode(
        TEXTS, FeatureCache(path=str(tmp_path / "cache"))
    )
    assert (stats.reused, stats.computed) == (4, 0)
    assert len(counted) == 1
    assert sparse.issparse(again)
    np.testing.assert_array_equal(_dense(again), _dense(first))
    np.testing.assert_allclose(
        _dense(first), _dense(words.encode_texts(tfidf_state, TEXTS)), rtol=1e-6
    )


def test_only_new_descriptions_are_computed_and_rows_keep_their_order(
    tmp_path: Path, tfidf_state, counted
):
    cache = FeatureCache(path=str(tmp_path / "cache"))
    encoders.from_settings(tfidf_state).encode(TEXTS[:3], cache)
    more = ["A dog finds its way home.", *TEXTS[::-1]]
    rows, stats = encoders.from_settings(tfidf_state).encode(more, cache)
    assert (stats.reused, stats.computed) == (3, 2)
    assert counted[-1] == ["A dog finds its way home.", TEXTS[4]]
    np.testing.assert_allclose(
        _dense(rows), _dense(words.encode_texts(tfidf_state, more)), rtol=1e-6
    )


def test_changed_settings_miss_the_cache(tmp_path: Path, tfidf_state, counted):
    cache = FeatureCache(path=str(tmp_path / "cache"))
    encoders.from_settings(tfidf_state).encode(TEXTS, cache)
    other = words.fit_text_encoder([*TEXTS, "A brand new word list."], "tfidf", 50)
    _, stats = encoders.from_settings(other).encode(TEXTS, cache)
    assert (stats.reused, stats.computed) == (0, 4)
    sequence = words.fit_text_encoder(TEXTS, "sequence", 50)
    rows, stats = encoders.from_settings(sequence).encode(TEXTS, cache)
    assert (stats.reused, stats.computed) == (0, 4)
    assert isinstance(rows, np.ndarray) and rows.shape[1] == sequence["sequence_length"]


def test_every_sentence_setting_is_part_of_the_key():
    state = {
        "features": "sentence",
        "model": encoders.SENTENCE_MODEL,
        "max_length": 256,
        "precision": "float32",
        "width": 384,
    }
    keys = {
        encoders.row_keys(["same text"], state | change)[0]
        for change in (
            {},
            {"max_length": 128},
            {"precision": "bfloat16"},
            {"model": "another model"},
            {"numerics": "bfloat16 weights"},
        )
    }
    assert len(keys) == 5
    assert encoders.row_keys(["same text"], state) != encoders.row_keys(
        ["same text "], state
    )


def test_without_a_cache_everything_is_computed(tfidf_state, counted):
    _, stats = encoders.from_settings(tfidf_state).encode(TEXTS, None)
    assert (stats.reused, stats.computed) == (0, 4)


def test_a_run_killed_while_storing_leaves_nothing_that_is_read(
    tmp_path: Path, tfidf_state
):
    """A real SIGKILL half-way through writing a shard."""
    folder = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        from netflix_dec.storage import caches

        def savez(file, **arrays):
            file.write(b"PK\\x03\\x04 half a shard")
            file.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        caches.np.savez = savez
        cache = caches.FeatureCache(path={str(folder)!r})
        cache.store(["a", "b"], np.ones((2, 3), dtype=np.float32))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -9
    assert [p.name.startswith(".") for p in folder.iterdir()] == [True]
    cache = FeatureCache(path=str(folder))
    lookup = cache.lookup(["a", "b"])
    assert lookup.rows is None and lookup.missing == ["a", "b"]
    # The next run stores and reads the rows as if nothing had happened, and
    # removes the killed run's unfinished file.
    rows, stats = encoders.from_settings(tfidf_state).encode(TEXTS, cache)
    assert stats.computed == 4
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    _, stats = encoders.from_settings(tfidf_state).encode(
        TEXTS, FeatureCache(path=str(folder))
    )
    assert stats.reused == 4


def test_an_unreadable_shard_is_ignored_with_a_warning(
    tmp_path: Path, tfidf_state, caplog
):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "broken.npz").write_bytes(b"not a zip file")
    _, stats = encoders.from_settings(tfidf_state).encode(
        TEXTS, FeatureCache(path=str(folder))
    )
    assert stats.computed == 4
    assert "ignoring unreadable" in caplog.text and "broken.npz" in caplog.text
