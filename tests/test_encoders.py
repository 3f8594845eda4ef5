"""The encoders as one type: saved settings to an encoder object and back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from netflix_dec import encoders
from netflix_dec.encoders import words

TEXTS = [
    "A detective hunts a killer in a rainy city.",
    "Two friends open a bakery in Paris.",
    "Two friends open a bakery in Paris.",
    "Astronauts are stranded on Mars.",
]


@pytest.mark.parametrize("kind", ["tfidf", "sequence"])
def test_saved_settings_give_back_an_encoder_that_encodes_the_same(kind: str):
    fitted = encoders.fit_encoder(kind, TEXTS, encoders.FitOptions(max_words=20))
    # The settings are the stored format, unchanged by the type around them.
    assert fitted.settings == words.fit_text_encoder(TEXTS, kind, 20)
    loaded = encoders.from_settings(fitted.settings)
    assert type(loaded) is type(fitted) and loaded.kind == kind
    assert loaded.settings_key == fitted.settings_key
    rows = loaded.compute(TEXTS)
    assert rows.shape == (len(TEXTS), loaded.width)
    assert sparse.issparse(rows) == loaded.sparse
    assert loaded.expected_rows().problem(rows) is None


def test_unknown_or_mismatched_kinds_are_refused_by_name():
    with pytest.raises(ValueError, match="'bag-of-words'"):
        encoders.from_settings({"features": "bag-of-words"})
    with pytest.raises(ValueError, match="features='tfidf'"):
        encoders.TfidfEncoder({"features": "sequence"})


def test_encode_takes_any_cache_with_lookup_and_store():
    class DictCache:
        def __init__(self) -> None:
            self.rows: dict[str, np.ndarray] = {}

        def lookup(self, keys, expected=None):
            found = np.array([key in self.rows for key in keys], dtype=bool)
            hits = [self.rows[key] for key in keys if key in self.rows]
            return encoders.CacheLookup(
                found,
                np.vstack(hits) if hits else None,
                [key for key in keys if key not in self.rows],
            )

        def store(self, keys, rows):
            self.rows.update(zip(keys, np.asarray(rows), strict=True))

    encoder = encoders.fit_encoder("sequence", TEXTS, encoders.FitOptions(20))
    cache = DictCache()
    first, stats = encoder.encode(TEXTS, cache)
    assert (stats.reused, stats.computed) == (0, 3)
    again, stats = encoder.encode(TEXTS[::-1], cache)
    assert (stats.reused, stats.computed) == (3, 0)
    np.testing.assert_array_equal(again, first[::-1])
