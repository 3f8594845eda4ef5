"""The text-encoder protocol: fit, encode, settings, width.

Modelled on BERTopic's ``BaseEmbedder`` (one small base class that every
embedding backend implements, so the rest of the code never asks which backend
it has): a :class:`TextEncoder` is fitted on the training descriptions
(:meth:`TextEncoder.fit`), describes itself completely by its JSON-ready
:attr:`~TextEncoder.settings` (what ``text_encoder.json`` stores), says how
wide its rows are (:attr:`~TextEncoder.width`) and encodes descriptions
(:meth:`TextEncoder.encode`), reusing the rows a cache already holds.

A row of features depends on two things only: the description text and the
settings (the TF-IDF vocabulary and IDF, the sequence length and scaling, or
the sentence model, its token limit and precision). Both go into the row's
cache key (:func:`row_keys`), so a row computed by one run (training or
assign) is reused by every later run that would compute the same row, and a
change of either computes it afresh. No Kedro here, and no TensorFlow at
import: the backends load it when they compute.
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from netflix_dec.encoders.cache import CachedRows, RowCache
from netflix_dec.encoders.matrix import FeatureMatrix, stack_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodeStats:
    """How a call to :meth:`TextEncoder.encode` got its rows."""

    titles: int
    reused: int
    """Distinct descriptions whose row came from the cache."""
    computed: int
    """Distinct descriptions encoded by this call."""


@dataclass(frozen=True)
class FitOptions:
    """What fitting an encoder may be told; each kind reads the options it has.

    Owned by the encoders (not the pipeline's Pydantic parameters), so the
    library does not depend on the pipeline's configuration schema.
    """

    max_words: int = 10_000
    """Word encoders: size of the word list (``conf/base``'s ``max_words``)."""
    max_length: int | None = None
    """``sequence``: at most this many tokens per description (None: no cap)."""
    precision: str = "auto"
    """``sentence``: ``auto``, ``float32`` or ``bfloat16``."""


def settings_key(settings: Mapping[str, Any]) -> str:
    """A hash of every feature setting: any change gives another key."""
    canonical = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_keys(descriptions: Sequence[str], settings: Mapping[str, Any]) -> list[str]:
    """One cache key per description: a hash of its text and the settings."""
    prefix = settings_key(settings).encode("ascii") + b"\0"
    return [
        hashlib.sha256(prefix + text.encode("utf-8")).hexdigest()
        for text in descriptions
    ]


class TextEncoder(ABC):
    """Descriptions to feature rows, one kind of features per subclass.

    An encoder is its settings: built from them (:func:`from_settings` on a
    saved ``text_encoder.json``) or by :meth:`fit`, it encodes any description
    exactly as the training ones.
    """

    kind: ClassVar[str]
    """The ``"features"`` tag of the settings (``encoding.features``)."""
    sparse: ClassVar[bool] = False
    """Whether the rows are a SciPy sparse matrix (else a dense array)."""
    pretrained: ClassVar[bool] = False
    """Whether the rows are a pretrained model's embedding, whose distances
    already mean similarity (else counts of the training vocabulary's words)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Wrap saved settings; prefer :meth:`fit` or :func:`from_settings`.

        Args:
            settings: The JSON-ready state, as :attr:`settings` returns it.
        """
        if settings.get("features") != self.kind:
            raise ValueError(
                f"{type(self).__name__} takes settings with features={self.kind!r}, "
                f"got {settings.get('features')!r}"
            )
        self._settings = dict(settings)

    @classmethod
    @abstractmethod
    def fit(cls, texts: Sequence[str], options: FitOptions) -> TextEncoder:
        """Learn how to encode from the training descriptions."""

    @classmethod
    def check_installed(cls) -> None:
        """Raise now, saying how to install it, if what this kind needs is missing.

        A run checks this before any node, instead of failing when it encodes.
        """
        return None

    @property
    def settings(self) -> dict[str, Any]:
        """The JSON-ready state that decides every row (``text_encoder.json``)."""
        return self._settings

    @property
    @abstractmethod
    def width(self) -> int | None:
        """Columns of the rows this encoder makes (None: not recorded)."""

    @property
    def settings_key(self) -> str:
        """A hash of :attr:`settings`: equal for encoders that make equal rows."""
        return settings_key(self._settings)

    def expected_rows(self) -> CachedRows:
        """What the rows are, for checking cached ones."""
        return CachedRows(width=self.width, sparse=self.sparse)

    @abstractmethod
    def compute(self, texts: Sequence[str], batch_size: int = 64) -> FeatureMatrix:
        """Encode descriptions with no cache (TF-IDF stays sparse)."""

    def keep_open(self) -> bool:
        """Keep what :meth:`compute` loads open for the life of the process.

        Returns:
            Whether anything is kept (False: this kind loads nothing).
        """
        return False

    def encode(
        self,
        descriptions: Sequence[str],
        cache: RowCache | None = None,
        batch_size: int = 64,
    ) -> tuple[FeatureMatrix, EncodeStats]:
        """Features of every description, computing only rows the cache lacks.

        Equal descriptions share one row, computed once. New rows are stored in
        the cache before returning, so a run killed later keeps them.

        Args:
            descriptions: One text per title.
            cache: Where rows are looked up and stored; None computes everything.
            batch_size: Sentence model batch size.

        Returns:
            The features, one row per description, and how they were obtained.
        """
        descriptions = [str(text) for text in descriptions]
        keys = row_keys(descriptions, self._settings)
        unique_keys = list(dict.fromkeys(keys))
        if cache is None:
            found_rows, missing = None, unique_keys
        else:
            lookup = cache.lookup(unique_keys, self.expected_rows())
            found_rows, missing = lookup.rows, lookup.missing
        computed = None
        if missing:
            text_of = dict(zip(keys, descriptions, strict=True))
            computed = self.compute([text_of[key] for key in missing], batch_size)
            if cache is not None:
                cache.store(missing, computed)
        parts = [part for part in (found_rows, computed) if part is not None]
        stacked = stack_rows(parts)
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
            self.kind,
            features.shape[1],
            ", sparse" if sparse.issparse(features) else "",
        )
        return features, stats
