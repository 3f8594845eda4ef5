"""What the Kedro catalogue configures each entry as, read through public Kedro API.

Hooks, start-up checks and tracking need to know where an entry's file is,
whether it is versioned and which class reads it. Kedro keeps that in each
dataset's private fields (``_filepath``, ``_describe()``), which change
between releases and differ between dataset classes; its public
``DataCatalog.to_config()`` returns every entry's configuration as the
catalogue was written (credentials, load versions and the save version apart).
This module is the one place that reads it. Which file one of the project's
own datasets loads now (its latest complete version) is that dataset's
:meth:`netflix_dec.storage.versions.RunVersions.current_file`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.io import DataCatalog


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
