"""The BERT encoder as a Keras functional model, named after the checkpoint's modules."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from netflix_dec.minilm.config import BertConfig

# Same guards as sentence-transformers: avoid 0/0 for an all-masked row and
# x/0 for an all-zero vector (neither occurs with [CLS]/[SEP] present).
_MIN_TOKEN_COUNT = 1e-9
_MIN_NORM = 1e-12
# Added to attention scores of padding keys; exp() of it underflows to 0.
_MASKED_SCORE = -1e9
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _check_backend() -> None:
    """Insists on the TensorFlow backend.

    The compiled inference path uses ``tf.function``, so another backend would
    fail later with a far less helpful error.

    Raises:
        RuntimeError: If Keras runs on a backend other than TensorFlow.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "MiniLMEncoder needs the Keras TensorFlow backend; "
            f"found {keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow."
        )


def exact_gelu(x: Any) -> Any:
    """BERT's ``"gelu"``: ``x * Phi(x)`` with the exact normal CDF via erf.

    Written out instead of ``keras.activations.gelu(approximate=False)``:
    TensorFlow implements that with ``erfc``, which measured ~40% slower on
    CPU here, while this erf form is also what PyTorch computes, so it tracks
    the reference more closely. The tanh approximation would drift by ~1e-3.
    """
    return 0.5 * x * (1.0 + ops.erf(x * _INV_SQRT2))


class ScaledDotProductAttention(keras.layers.Layer):
    """Multi-head attention core (no projections) on the BERT layout.

    Projections are plain ``Dense`` layers named after the checkpoint's Linear
    modules, so weights map one-to-one; this layer only splits heads, attends
    and merges heads. Splitting needs the runtime batch size and length (read
    from the mask), hence a layer rather than functional ops.
    """

    def __init__(self, num_heads: int, **kwargs: Any):
        """Stores the head count.

        Args:
            num_heads: Number of attention heads; must divide the width.
            **kwargs: Passed to ``keras.layers.Layer``.
        """
        super().__init__(**kwargs)
        self.num_heads = num_heads

    def call(self, query: Any, key: Any, value: Any, attention_mask: Any) -> Any:
        """Attends from every token to the real tokens of its own sequence.

        Args:
            query: (batch * length, width) projected queries.
            key: (batch * length, width) projected keys.
            value: (batch * length, width) projected values.
            attention_mask: (batch, length) int mask, 1 for real tokens and 0
                for padding.

        Returns:
            (batch * length, width) context vectors.
        """
        batch, length = ops.shape(attention_mask)
        width = query.shape[-1]
        head_dim = width // self.num_heads

        def split_heads(tensor: Any) -> Any:
            heads = ops.reshape(tensor, (batch, length, self.num_heads, head_dim))
            return ops.transpose(heads, (0, 2, 1, 3))

        keys_t = ops.transpose(split_heads(key), (0, 1, 3, 2))
        scores = ops.matmul(split_heads(query), keys_t) / math.sqrt(head_dim)
        # Softmax in float32 whatever the products ran in: its exponentials and
        # sum are where bfloat16's 8-bit mantissa would cost most.
        scores = ops.cast(scores, "float32")
        # A large negative score on padding keys makes their softmax weight 0.
        padding = 1.0 - ops.cast(attention_mask, "float32")
        scores += ops.reshape(padding * _MASKED_SCORE, (batch, 1, 1, length))
        weights = ops.cast(ops.softmax(scores, axis=-1), query.dtype)
        context = ops.matmul(weights, split_heads(value))
        merged = ops.transpose(context, (0, 2, 1, 3))
        return ops.reshape(merged, (-1, width))

    def get_config(self) -> dict[str, Any]:
        """Keeps the layer serialisable like any built-in one."""
        return {**super().get_config(), "num_heads": self.num_heads}


def _norm_dtype(dtype: str) -> str:
    """Policy of the residual stream, its layer norms and the embedding sum.

    Under pure ``"bfloat16"`` only the weights and matrix products are
    bfloat16; the residual stream stays float32, so rounding does not pile up
    over the six blocks.
    """
    return "float32" if dtype == "bfloat16" else dtype


def _embeddings(
    config: BertConfig, input_ids: keras.KerasTensor, dtype: str
) -> keras.KerasTensor:
    """Adds word, position and segment embeddings, layer-normalises, flattens.

    Positions are derived from the padded input itself (a running count) so
    the model accepts any sequence length without an extra input. Every text
    is a single segment, hence segment id 0 throughout.
    """
    positions = ops.cumsum(ops.ones_like(input_ids), axis=1) - 1
    segments = ops.zeros_like(input_ids)
    tables = (
        ("word_embeddings", config.vocab_size, input_ids),
        ("position_embeddings", config.max_position_embeddings, positions),
        ("token_type_embeddings", config.type_vocab_size, segments),
    )
    summed = keras.layers.Add(dtype=_norm_dtype(dtype))(
        [
            keras.layers.Embedding(
                rows,
                config.hidden_size,
                embeddings_initializer="zeros",
                dtype=dtype,
                name=f"embeddings.{name}",
            )(ids)
            for name, rows, ids in tables
        ]
    )
    normalised = keras.layers.LayerNormalization(
        epsilon=config.layer_norm_eps,
        dtype=_norm_dtype(dtype),
        name="embeddings.LayerNorm",
    )(summed)
    # From here on one row per token: every Dense is then a single large GEMM
    # on a (tokens, features) matrix, which measured about twice as fast on a
    # 2-core CPU as Keras's batched (batch, length, features) product, and
    # needs no reshape around each of the 36 projections.
    return ops.reshape(normalised, (-1, config.hidden_size))


def _add_and_norm(
    config: BertConfig,
    residual: keras.KerasTensor,
    update: keras.KerasTensor,
    name: str,
    dtype: str,
) -> keras.KerasTensor:
    """Post-layer-norm residual connection, as in the original BERT."""
    norm_dtype = _norm_dtype(dtype)
    return keras.layers.LayerNormalization(
        epsilon=config.layer_norm_eps, dtype=norm_dtype, name=name
    )(keras.layers.Add(dtype=norm_dtype)([residual, update]))


def _dense(units: int, dtype: str, name: str, **kwargs: Any) -> keras.layers.Dense:
    """A projection whose weights start at zero: the checkpoint overwrites them.

    Keras' default random initialisation of MiniLM's 22M weights measured
    0.2 s of CPU per load, all thrown away by :func:`load_checkpoint_weights`.
    """
    return keras.layers.Dense(
        units, kernel_initializer="zeros", dtype=dtype, name=name, **kwargs
    )


def _encoder_layer(
    config: BertConfig,
    hidden: keras.KerasTensor,
    attention_mask: keras.KerasTensor,
    index: int,
    dtype: str,
) -> keras.KerasTensor:
    """One transformer block; layer names mirror the checkpoint's modules.

    Matching names turn weight loading into a lookup instead of a positional
    guess. Outputs at padded positions are garbage but never reach the
    pooled embedding.
    """
    prefix = f"encoder.layer.{index}"
    query, key, value = (
        _dense(config.hidden_size, dtype, f"{prefix}.attention.self.{part}")(hidden)
        for part in ("query", "key", "value")
    )
    context = ScaledDotProductAttention(
        config.num_attention_heads, dtype=dtype, name=f"{prefix}.attention.self"
    )(query, key, value, attention_mask)
    attended = _dense(config.hidden_size, dtype, f"{prefix}.attention.output.dense")(
        context
    )
    hidden = _add_and_norm(
        config, hidden, attended, f"{prefix}.attention.output.LayerNorm", dtype
    )
    expanded = _dense(
        config.intermediate_size,
        dtype,
        f"{prefix}.intermediate.dense",
        activation=exact_gelu,
    )(hidden)
    projected = _dense(config.hidden_size, dtype, f"{prefix}.output.dense")(expanded)
    return _add_and_norm(config, hidden, projected, f"{prefix}.output.LayerNorm", dtype)


class MeanPooling(keras.layers.Layer):
    """Mean over each text's real tokens, scaled to unit length, in float32.

    Padding must not dilute the mean, otherwise a text's embedding would
    depend on which other texts share its batch. Pooling runs in float32
    whatever precision the layers computed in. A layer, because regrouping the
    (tokens, width) rows by text needs the runtime batch size and length.
    """

    def call(self, hidden: Any, attention_mask: Any) -> Any:
        """Pools ``(batch * length, width)`` rows into ``(batch, width)``."""
        batch, length = ops.shape(attention_mask)
        hidden = ops.reshape(
            ops.cast(hidden, "float32"), (batch, length, hidden.shape[-1])
        )
        weights = ops.expand_dims(ops.cast(attention_mask, "float32"), axis=-1)
        summed = ops.sum(hidden * weights, axis=1)
        counts = ops.maximum(ops.sum(weights, axis=1), _MIN_TOKEN_COUNT)
        mean = summed / counts
        norm = ops.sqrt(ops.sum(ops.square(mean), axis=-1, keepdims=True))
        return mean / ops.maximum(norm, _MIN_NORM)


def build_bert_model(config: BertConfig, dtype: str = "float32") -> keras.Model:
    """Builds the sentence encoder as a Keras functional model, weights at zero.

    The weights are meant to be filled by :func:`load_checkpoint_weights`.

    Args:
        config: Architecture read from the checkpoint's ``config.json``.
        dtype: ``"float32"``, or ``"bfloat16"``: weights stored and matrix
            products computed in bfloat16, with the residual stream, layer
            norms, softmax and pooling in float32. Any other Keras dtype policy
            (e.g. ``"mixed_bfloat16"``) applies to every layer as given.

    Returns:
        A model mapping ``[input_ids, attention_mask]`` (int32, shape
        ``(batch, length)``) to L2-normalised mean-pooled embeddings of shape
        ``(batch, hidden_size)``, float32 in either policy. Dropout is omitted: this is inference only.

    Raises:
        RuntimeError: If Keras is not on the TensorFlow backend.
    """
    _check_backend()
    input_ids = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    attention_mask = keras.Input(shape=(None,), dtype="int32", name="attention_mask")
    hidden = _embeddings(config, input_ids, dtype)
    for index in range(config.num_hidden_layers):
        hidden = _encoder_layer(config, hidden, attention_mask, index, dtype)
    pooled = MeanPooling(dtype="float32", name="pooling")(hidden, attention_mask)
    return keras.Model(
        inputs=[input_ids, attention_mask], outputs=pooled, name="all_minilm_l6_v2"
    )
