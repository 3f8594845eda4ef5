"""TF-IDF and sequence encoders: a vocabulary fitted on the training descriptions.

Both keep their whole state in their settings (see :mod:`.words` for how it is
fitted and applied) and import TensorFlow only when they fit or encode.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from netflix_dec.encoders.base import FitOptions, TextEncoder
from netflix_dec.encoders.matrix import FeatureMatrix

logger = logging.getLogger(__name__)


class _WordEncoder(TextEncoder):
    @classmethod
    def fit(cls, texts: Sequence[str], options: FitOptions) -> TextEncoder:
        """Learn the vocabulary (and IDF or scaling) of ``texts``."""
        from netflix_dec.encoders import words

        state = words.fit_text_encoder(
            texts, cls.kind, options.max_words, options.max_length
        )
        logger.info(
            "Vocabulary: %d distinct tokens, %d kept as features (%s).",
            state["vocabulary_size"],
            len(state["vocabulary"]),
            cls.kind,
        )
        encoder = cls(state)
        encoder._log_fit(len(texts))
        return encoder

    def _log_fit(self, n_texts: int) -> None:
        """Say what fitting decided beyond the vocabulary."""

    def compute(self, texts: Sequence[str], batch_size: int = 64) -> FeatureMatrix:
        from netflix_dec.encoders import words

        return words.encode_texts(self._settings, texts)


class TfidfEncoder(_WordEncoder):
    """TF-IDF over the most frequent words: sparse rows, one column a word."""

    kind = "tfidf"
    sparse = True

    @property
    def width(self) -> int:
        return len(self._settings["vocabulary"])


class SequenceEncoder(_WordEncoder):
    """The notebook's features: padded token ids, min-max scaled per position."""

    kind = "sequence"

    @property
    def width(self) -> int:
        return int(self._settings["sequence_length"])

    def _log_fit(self, n_texts: int) -> None:
        state: dict[str, Any] = self._settings
        logger.info(
            "Sequences padded to %d tokens; %d of %d descriptions were longer and "
            "cut to their first %d (encoding.max_length; the longest has %d).",
            state["sequence_length"],
            state["truncated"],
            n_texts,
            state["sequence_length"],
            state["longest_sequence"],
        )
