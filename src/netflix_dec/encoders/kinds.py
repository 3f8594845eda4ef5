"""From a feature kind or saved settings to the encoder object, and back.

The one place the ``"features"`` tag (``encoding.features``, the tag in
``text_encoder.json``) is mapped to a type: the rest of the project holds a
:class:`~netflix_dec.encoders.TextEncoder` and asks it, instead of comparing
strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netflix_dec.encoders.base import FitOptions, TextEncoder
from netflix_dec.encoders.sentence import SentenceEncoder
from netflix_dec.encoders.word_encoders import SequenceEncoder, TfidfEncoder

ENCODERS: dict[str, type[TextEncoder]] = {
    cls.kind: cls for cls in (TfidfEncoder, SequenceEncoder, SentenceEncoder)
}
"""Every encoder kind, by its ``"features"`` tag."""


def encoder_type(kind: str) -> type[TextEncoder]:
    """The encoder class of ``kind`` (``tfidf``, ``sequence`` or ``sentence``)."""
    try:
        return ENCODERS[kind]
    except KeyError:
        raise ValueError(
            f"Unknown feature kind {kind!r}; expected one of {sorted(ENCODERS)}."
        ) from None


def fit_encoder(
    kind: str, texts: Sequence[str], options: FitOptions | None = None
) -> TextEncoder:
    """Fit an encoder of ``kind`` on the training descriptions."""
    return encoder_type(kind).fit(texts, options or FitOptions())


def from_settings(settings: Mapping[str, Any]) -> TextEncoder:
    """The encoder that saved settings (``text_encoder.json``) describe.

    The inverse of :attr:`TextEncoder.settings`: ``from_settings(e.settings)``
    encodes as ``e`` does, and its settings are equal to ``e``'s.
    """
    return encoder_type(settings.get("features"))(settings)
