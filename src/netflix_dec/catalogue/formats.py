"""Reading a catalogue file: CSV, Parquet or JSON Lines, plain or compressed.

The format comes from the ``file_format`` argument or the file name's ending;
:class:`CatalogueDataset` reads every format through kedro-datasets, so the
Kedro catalogue, the run-start checks and the assign pipeline read a file the
same way.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DataCatalog, DatasetError

from netflix_dec.catalog_entries import entry_configs, entry_path

logger = logging.getLogger(__name__)

# File formats, and the file name endings that choose them.
FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# Compression endings looked through, and how to open each.
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

# ---- file formats -----------------------------------------------------------------


def file_format_of(path: str | os.PathLike, file_format: str | None = None) -> str:
    """The catalogue's format: ``file_format`` when given, else its file name's end.

    A compression ending (``.gz``, ``.bz2``, ``.xz``) is looked through, and a
    name that says nothing (no ending, ``.dat``) is read as CSV, which the
    header check then names if it is not.

    Raises:
        DatasetError: ``file_format`` is not one of :data:`FORMATS`.
    """
    if file_format is not None:
        if file_format not in FORMATS:
            raise DatasetError(
                f"file_format {file_format!r} for {path} is not one of {list(FORMATS)}."
            )
        return file_format
    suffixes = [suffix.lower() for suffix in Path(str(path)).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    return _EXTENSIONS.get(suffixes[-1], "csv") if suffixes else "csv"


def default_load_args(path: str | os.PathLike, file_format: str) -> dict[str, Any]:
    """What pandas needs to read a format it cannot tell by itself.

    JSON Lines needs ``lines: true``; a ``.tsv`` file is tab-separated. Given
    ``load_args`` are laid over these.
    """
    if file_format == "jsonl":
        return {"lines": True}
    if file_format == "csv" and ".tsv" in [s.lower() for s in Path(str(path)).suffixes]:
        return {"sep": "\t"}
    return {}


# The key of ``DataFrame.attrs`` under which a loaded catalogue names its file.
SOURCE_ATTR = "source"

# Load arguments that only a text file (CSV) has.
_TEXT_ONLY = (
    "encoding",
    "sep",
    "delimiter",
    "quotechar",
    "escapechar",
    "lineterminator",
)


class CatalogueDataset(AbstractDataset[None, pd.DataFrame]):
    """A catalogue file (CSV, Parquet or JSON Lines), read through kedro-datasets.

    The format comes from ``file_format`` or the file's name, and picks
    pandas' ``CSVDataset``, ``ParquetDataset`` or ``JSONDataset`` (with
    ``lines: true``); ``load_args`` go to it as they are, so a
    semicolon-delimited Latin-1 export is ``load_args: {sep: ";", encoding:
    latin-1}``. Read only: the project never writes its inputs.

    Example (``conf/local/catalog.yml``)::

        raw_titles:
          type: netflix_dec.catalogue.CatalogueDataset
          filepath: data/01_raw/our_titles.parquet
    """

    def __init__(
        self,
        *,
        filepath: str,
        file_format: str | None = None,
        load_args: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Describe the file; nothing is read until ``load``.

        Args:
            filepath: The catalogue, optionally with a protocol (``s3://``).
            file_format: ``csv``, ``parquet`` or ``jsonl``; by default the
                file name's ending decides (``.csv``/``.tsv``/``.txt``,
                ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``; others are CSV).
            load_args: Passed to the kedro-datasets class that reads it.
            fs_args: Passed to that class's filesystem.
            credentials: Passed to that class's filesystem.
            metadata: Free-form metadata, ignored by Kedro.
        """
        if load_args is not None and not isinstance(load_args, dict):
            raise DatasetError(
                f"load_args for {filepath} must be a mapping such as "
                f"{{sep: ';', encoding: latin-1}}, got {load_args!r}."
            )
        self.filepath = str(filepath)
        self.file_format = file_format_of(self.filepath, file_format)
        self.load_args = {
            **default_load_args(self.filepath, self.file_format),
            **(load_args or {}),
        }
        text_only = sorted(set(self.load_args) & set(_TEXT_ONLY))
        if self.file_format == "parquet" and text_only:
            # A Parquet file has neither; an entry written for a CSV file
            # (NETFLIX_TITLES_CSV then names a Parquet one) still reads it.
            logger.warning(
                "%s is Parquet: load_args %s are for text files and are not used.",
                self.filepath,
                text_only,
            )
            for key in text_only:
                del self.load_args[key]
        self._fs_args = fs_args
        self._credentials = credentials
        self.metadata = metadata
        self._reader: AbstractDataset | None = None

    def _dataset(self) -> AbstractDataset:
        if self._reader is None:
            from kedro_datasets import pandas as readers

            kind = {
                "csv": readers.CSVDataset,
                "parquet": readers.ParquetDataset,
                "jsonl": readers.JSONDataset,
            }[self.file_format]
            self._reader = kind(
                filepath=self.filepath,
                load_args=self.load_args,
                fs_args=self._fs_args,
                credentials=self._credentials,
            )
        return self._reader

    def load(self) -> pd.DataFrame:
        titles = self._dataset().load()
        # Which file this table is: only the dataset that read it knows, and
        # the report names it (netflix_dec.pipelines.data_processing.nodes).
        titles.attrs[SOURCE_ATTR] = self.filepath
        return titles

    def save(self, data: pd.DataFrame) -> None:
        raise DatasetError(
            f"{self.filepath} is an input catalogue; the project reads it, never "
            "writes it."
        )

    def _exists(self) -> bool:
        return self._dataset().exists()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self.filepath,
            "file_format": self.file_format,
            "load_args": self.load_args,
        }


def source_of(catalog: DataCatalog, name: str) -> dict[str, Any]:
    """Path, format and load arguments of the file catalogue entry ``name`` reads.

    Also for a plain ``pandas.CSVDataset`` entry a project may still have in
    ``conf/local``: its configured path and load arguments, the format from
    its name.
    """
    dataset = catalog.get(name)
    if isinstance(dataset, CatalogueDataset):
        return {
            "path": dataset.filepath,
            "file_format": dataset.file_format,
            "load_args": dataset.load_args,
        }
    config = entry_configs(catalog).get(name, {})
    return {
        "path": str(entry_path(config)),
        "file_format": None,
        "load_args": dict(config.get("load_args") or {}),
    }


def read_catalogue(
    path: str | os.PathLike,
    file_format: str | None = None,
    load_args: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The whole catalogue as :class:`CatalogueDataset` reads it."""
    return CatalogueDataset(
        filepath=str(path), file_format=file_format, load_args=load_args
    ).load()
