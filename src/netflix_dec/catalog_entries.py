"""What the Kedro catalogue configures each entry as, read through public Kedro API.

Hooks, start-up checks and tracking need to know where an entry's file is,
whether it is versioned and which class reads it. Kedro keeps that in each
dataset's private fields (``_filepath``, ``_describe()``), which change
between releases and differ between dataset classes; its public
``DataCatalog.to_config()`` returns every entry's configuration as the
catalogue was written (credentials, load versions and the save version apart),
and ``AbstractVersionedDataset.resolve_load_version()`` says which version a
load reads. This module is the one place that turns those into paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.io import DataCatalog
from kedro.io.core import get_protocol_and_path


def entry_configs(catalog: DataCatalog) -> dict[str, dict[str, Any]]:
    """Every entry's configuration (``type``, ``filepath``, ``versioned``, ...).

    Entries that were not made from configuration (datasets a runner adds)
    are absent. Read it once when looking up several entries: it walks the
    whole catalogue.
    """
    return {name: _flat(config) for name, config in catalog.to_config()[0].items()}


def _flat(config: dict[str, Any]) -> dict[str, Any]:
    """An entry's configuration as written, also for a dataset already made.

    ``to_config`` describes a dataset the run has already made by the
    arguments its ``__init__`` took. A class that inherits its ``__init__``
    from another dataset class (``OptionalDataset`` from ``AtomicDataset``)
    took them through the parent's wrapped ``__init__``, so they come back
    as ``{"type", "args", "kwargs"}`` with the version as a ``Version``,
    not as ``filepath``, ``dataset`` and ``versioned``.
    """
    if set(config) != {"type", "args", "kwargs"} or config["args"]:
        return config
    flat = {"type": config["type"], **config["kwargs"]}
    if flat.pop("version", None) is not None:
        flat["versioned"] = True
    flat.pop("metadata", None)
    return flat


def entry_path(config: Mapping[str, Any]) -> str | None:
    """The file or folder an entry's configuration names, as written."""
    path = config.get("filepath") or config.get("path")
    return str(path) if path else None


def wrapped_type(config: Mapping[str, Any]) -> str:
    """The class that reads an entry's file: the wrapped one for wrapper datasets.

    ``AtomicDataset`` and ``OptionalDataset`` wrap a kedro-datasets class
    (``dataset: {type: tensorflow.TensorFlowModelDataset}``); it is that class
    which says what the file holds.
    """
    inner = config.get("dataset")
    if isinstance(inner, Mapping):
        inner = inner.get("type")
    return str(inner or config.get("type") or "")


def saved_file(
    catalog: DataCatalog, name: str, configs: Mapping[str, Mapping[str, Any]]
) -> Path | None:
    """The local file entry ``name`` loads now: its latest version when versioned.

    Versioned files live at ``<filepath>/<version>/<file name>`` (Kedro's
    layout); the version is the dataset's own ``resolve_load_version()``, so
    the project's rule for "latest" (complete runs only) applies.

    Args:
        catalog: The run's catalogue.
        name: The entry.
        configs: :func:`entry_configs` of ``catalog``.

    Returns:
        The existing local file, or None for entries that are not one local
        file, have no saved version yet or were never made from configuration.
    """
    config = configs.get(name)
    path_text = entry_path(config) if config else None
    if path_text is None:
        return None
    protocol, path_only = get_protocol_and_path(path_text)
    if protocol != "file":
        return None
    path = Path(path_only)
    if config.get("versioned"):
        try:
            version = catalog.get(name).resolve_load_version()
        except Exception:  # no saved version yet (Kedro raises), or refused
            return None
        if not version:
            return None
        path = path / version / path.name
    return path if path.is_file() else None
