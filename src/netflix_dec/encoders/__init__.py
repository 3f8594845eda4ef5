"""Text encoders: descriptions to feature rows, one type per kind of features.

The bottom of the house: no Kedro, nothing from the storage modules, and no
TensorFlow until an encoder fits or computes. What lives here:

- :mod:`.matrix`: :data:`FeatureMatrix` (the one name for titles × features,
  dense or sparse) and :func:`stack_rows`.
- :mod:`.base`: the :class:`TextEncoder` protocol (fit / encode / settings /
  width), :class:`FitOptions`, :class:`EncodeStats` and the row keys.
- :mod:`.cache`: the cache interface :meth:`TextEncoder.encode` takes
  (:class:`RowCache`), and what a cache answers and checks.
- :mod:`.word_encoders` and :mod:`.words`: TF-IDF and sequence features
  (Keras ``TextVectorization``); :mod:`.sentence`: MiniLM sentence features
  (backend: :mod:`netflix_dec.minilm`).
- :mod:`.state`: the schema of ``text_encoder.json``; :mod:`.kinds`: from a
  kind or saved settings to the encoder object (:func:`from_settings`).

Example:
    >>> encoder = fit_encoder("tfidf", descriptions, FitOptions(max_words=500))
    >>> rows, stats = encoder.encode(descriptions, cache=feature_cache)
    >>> from_settings(encoder.settings).width == encoder.width
    True
"""

from netflix_dec.encoders.base import (
    EncodeStats,
    FitOptions,
    TextEncoder,
    row_keys,
    settings_key,
)
from netflix_dec.encoders.cache import CachedRows, CacheLookup, RowCache
from netflix_dec.encoders.kinds import (
    ENCODERS,
    encoder_type,
    fit_encoder,
    from_settings,
)
from netflix_dec.encoders.matrix import FeatureMatrix, stack_rows
from netflix_dec.encoders.sentence import SENTENCE_MODEL, SentenceEncoder
from netflix_dec.encoders.state import TextEncoderState
from netflix_dec.encoders.word_encoders import SequenceEncoder, TfidfEncoder

__all__ = [
    "ENCODERS",
    "SENTENCE_MODEL",
    "CacheLookup",
    "CachedRows",
    "EncodeStats",
    "FeatureMatrix",
    "FitOptions",
    "RowCache",
    "SentenceEncoder",
    "SequenceEncoder",
    "TextEncoder",
    "TextEncoderState",
    "TfidfEncoder",
    "encoder_type",
    "fit_encoder",
    "from_settings",
    "row_keys",
    "settings_key",
    "stack_rows",
]
