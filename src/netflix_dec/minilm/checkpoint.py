"""Copying a PyTorch BERT checkpoint's tensors into the Keras model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import ml_dtypes
import numpy as np

# Checkpoint tensors that sentence embeddings never use: the pooler head is for
# BERT's next-sentence objective and position ids are recomputed on the fly.
# NumPy has no bfloat16 of its own; ml_dtypes (a TensorFlow dependency) does.
_NUMPY_DTYPES = {"bfloat16": ml_dtypes.bfloat16}

_UNUSED_CHECKPOINT_KEYS = frozenset(
    {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
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
        variable.assign(value.astype(_NUMPY_DTYPES.get(variable.dtype, variable.dtype)))
