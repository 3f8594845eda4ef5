"""Reading a sentence-transformers model directory: JSON settings, tokenizer, weights.

safetensors and tokenizers are imported only when a file is read, so their
absence yields the install command instead of an ImportError at import time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from netflix_dec.minilm.config import BertConfig
from netflix_dec.minilm.package import not_installed

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def check_pooling(model_dir: Path) -> None:
    """Refuses pooling setups other than plain mean pooling.

    The pooling is hard-wired into the Keras model, so a checkpoint that
    expects CLS or max pooling must not be accepted silently.
    """
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if not pooling_file.is_file():
        return
    modes = {
        k: v for k, v in read_json(pooling_file).items() if k.startswith("pooling_mode")
    }
    active = sorted(mode for mode, enabled in modes.items() if enabled)
    if active != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"Only mean pooling is implemented, config enables {active}")


def default_max_length(model_dir: Path, config: BertConfig) -> int:
    """Uses sentence-transformers' ``max_seq_length`` so truncation matches."""
    settings_file = model_dir / "sentence_bert_config.json"
    if settings_file.is_file():
        return int(read_json(settings_file)["max_seq_length"])
    return config.max_position_embeddings


def read_settings(
    model_dir: Path, max_length: int | None = None
) -> tuple[BertConfig, int]:
    """The architecture and token limit of a model directory, without its weights.

    The one reader of ``config.json`` and the default token limit, shared by
    :meth:`netflix_dec.minilm.MiniLMEncoder.from_directory` and the sentence
    encoder's settings (which must name what the model would compute).

    Args:
        model_dir: A sentence-transformers model directory.
        max_length: Token limit; None takes the model's own (see
            :func:`default_max_length`).
    """
    config = BertConfig.from_dict(read_json(model_dir / "config.json"))
    if max_length is None:
        max_length = default_max_length(model_dir, config)
    return config, int(max_length)


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """Loads the WordPiece tokenizer, truncating but never padding.

    The shipped ``tokenizer.json`` pads every text to a fixed 128 tokens and
    truncates at 128; both are overridden: padding happens per batch (far
    cheaper) and truncation follows ``max_length``.
    """
    try:
        from tokenizers import Tokenizer  # noqa: PLC0415 - optional dependency
    except ModuleNotFoundError as error:
        raise not_installed("The package tokenizers", "tokenizers") from error
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file  # noqa: PLC0415 - optional dependency
    except ModuleNotFoundError as error:
        raise not_installed("The package safetensors", "safetensors") from error
    return load_file(str(path))
