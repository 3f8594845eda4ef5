"""The raw catalogue: its schema, where it is read from, and the checks on it.

One home for the contract with the input table, so that the hooks, the
data_processing and assign nodes and the tests agree on it. The table is
Kaggle's "Netflix Movies and TV Shows" (``netflix_titles.csv``) or any
catalogue a team has: its columns are found by the project's names (case,
spaces and hyphens aside) or through the column map
(``data_processing.columns``, read here and nowhere else); only ``title`` and
``description`` are required. CSV, Parquet and JSON Lines files are read
through kedro-datasets (:class:`CatalogueDataset`). Headers are read with a
bounded read, so a file that is not a catalogue fails in a moment. This
module imports no pipeline and no model library.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
import logging
import lzma
import os
import stat
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)

# The 12 columns of the Kaggle table, in its order: the project's names.
COLUMNS = (
    "show_id",
    "type",
    "title",
    "director",
    "cast",
    "country",
    "date_added",
    "release_year",
    "rating",
    "duration",
    "listed_in",
    "description",
)
KEY = "show_id"
# What clustering needs: every other column may be absent from a catalogue.
# Without show_id an id is made from the title and description (content_ids);
# without type every row is kept; any other missing column makes its plot say
# "not in this catalogue". An absent column is absent from validated_titles
# and clean_titles too, and listed in the data profile's "absent_columns".
REQUIRED = ("title", "description")
OPTIONAL_COLUMNS = tuple(column for column in COLUMNS if column not in REQUIRED)
NOT_IN_CATALOGUE = "not in this catalogue"
COLUMN_MAP_PARAMETER = "data_processing.columns"

ENV_VAR = "NETFLIX_TITLES_CSV"
REAL_TITLES_PATH = "data/01_raw/netflix_titles.csv"
SAMPLE_PATH = Path("data/01_raw/sample/netflix_titles_sample.csv")

# What the assign pipeline keeps of each new title (show_id made when absent).
NEW_TITLES_COLUMNS = ("show_id", "title", "description")
NEW_TITLES_ENV_VAR = "NEW_TITLES_CSV"

# Reading a header reads at most this much: a file whose first line is longer
# is no catalogue (a 2 GB file without a newline once grew a run to 21 GB).
MAX_HEADER_BYTES = 1 << 20
# Messages list at most this many columns, each cut to this many characters.
_SHOWN_COLUMNS = 20
_SHOWN_CHARS = 60

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
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


class RawTitlesError(ValueError):
    """The raw catalogue cannot be used as it is; the message says why."""


def raw_titles_path(real: str = REAL_TITLES_PATH, sample: str = "") -> str:
    """Resolve the raw catalogue path for ``conf/base/catalog.yml``.

    A fresh clone must run without the Kaggle file, yet a user who has it
    should not need to edit the catalogue. The order is: the file named by
    ``NETFLIX_TITLES_CSV``, the Kaggle file at ``real``, the bundled sample.

    Args:
        real: Where the Kaggle file goes, relative to the project root.
        sample: The bundled sample, used when there is no real file.

    Returns:
        The path to read; relative paths are taken from the project root, as
        every catalogue path is.
    """
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    if Path(real).exists():  # a directory there is a mistake the check names
        return real
    return sample


def new_titles_path(default: str) -> str:
    """The new titles to assign: the file named by ``NEW_TITLES_CSV``, else ``default``."""
    return os.environ.get(NEW_TITLES_ENV_VAR, "").strip() or default


def describe_source(path: str | Path, sample: str | Path = SAMPLE_PATH) -> str:
    """One log line saying which catalogue a run reads and how to change it."""
    path = Path(path)
    if path.resolve() == Path(sample).resolve():
        return (
            f"Input: the bundled synthetic sample {path}. For the real catalogue, put "
            f"Kaggle's netflix_titles.csv at {REAL_TITLES_PATH} or set {ENV_VAR}."
        )
    origin = f"from {ENV_VAR}" if os.environ.get(ENV_VAR, "").strip() else "real file"
    return f"Input: {path} ({origin})."


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
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return _EXTENSIONS.get(suffixes[-1], "csv") if suffixes else "csv"


def _default_load_args(path: str | os.PathLike, file_format: str) -> dict[str, Any]:
    if file_format == "jsonl":
        return {"lines": True}
    if file_format == "csv" and ".tsv" in [s.lower() for s in Path(str(path)).suffixes]:
        return {"sep": "\t"}
    return {}


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
            **_default_load_args(self.filepath, self.file_format),
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
        return self._dataset().load()

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


def source_of(dataset: AbstractDataset) -> dict[str, Any]:
    """Path, format and load arguments of the dataset a catalogue is read with.

    Also for a plain ``pandas.CSVDataset`` entry a project may still have in
    ``conf/local``: its path and load arguments, the format from its name.
    """
    if isinstance(dataset, CatalogueDataset):
        return {
            "path": dataset.filepath,
            "file_format": dataset.file_format,
            "load_args": dataset.load_args,
        }
    described = dataset._describe()
    return {
        "path": str(described.get("filepath")),
        "file_format": None,
        "load_args": dict(described.get("load_args") or {}),
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


# ---- the column map ---------------------------------------------------------------


def _fold(name: str) -> str:
    """A column name compared case-, space- and hyphen-blind: ``Release Year``."""
    words = str(name).replace("\ufeff", "").replace("-", " ").replace("_", " ")
    return "_".join(words.split()).casefold()


def shown(names: Sequence[Any]) -> str:
    """Column names for a message: at most 20, each cut to 60 characters."""
    cut = [
        str(name) if len(str(name)) <= _SHOWN_CHARS else f"{str(name)[:_SHOWN_CHARS]}…"
        for name in list(names)[:_SHOWN_COLUMNS]
    ]
    more = len(names) - len(cut)
    return f"{cut}" + (f" and {more:,} more ({len(names):,} in all)" if more else "")


def _closest(name: str, found: Sequence[str]) -> str | None:
    """The file's column most like ``name`` (difflib), if any is close."""
    folded = {_fold(column): column for column in found}
    match = get_close_matches(_fold(name), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


def _closest_text(name: str, found: Sequence[str]) -> str:
    match = _closest(name, found)
    return f" (closest: {match!r})" if match else ""


def resolve_columns(
    found: Sequence[Any],
    columns: Mapping[str, str] | None = None,
    source: str = "The catalogue",
    *,
    strict: bool = True,
) -> dict[str, str]:
    """Which of the file's columns is each project column, by the column map.

    A mapped column (``columns``: project name -> the file's name) is the
    file's column of that name (or the one equal to it case aside); every
    other project column is the file's column of the same name, case,
    spaces and hyphens aside (``Title``, ``Release Year``). A file column
    serves one project column only.

    Args:
        found: The file's column names.
        columns: ``data_processing.columns``.
        source: The file, for messages.
        strict: Whether a mapped column the file lacks is an error (the
            training catalogue) or is looked up by its project name (new
            titles, which need only a title and a description).

    Returns:
        Project name -> the file's column name, for each project column the
        file has, in the project's order.

    Raises:
        RawTitlesError: A mapped column is not in the file (naming it, the
            columns found and the closest match), two columns match one name,
            or the file has no ``title`` or ``description`` column.
    """
    found = [str(column) for column in found]
    by_fold: dict[str, list[str]] = {}
    for column in found:
        by_fold.setdefault(_fold(column), []).append(column)
    resolved: dict[str, str] = {}
    for project, theirs in (columns or {}).items():
        matches = [theirs] if theirs in found else by_fold.get(_fold(theirs), [])
        if not matches and not strict:
            continue
        if len(matches) != 1:
            problem = "has no column" if not matches else "has several columns like"
            raise RawTitlesError(
                f"{COLUMN_MAP_PARAMETER} maps {project} to {theirs!r}, but {source} "
                f"{problem} {theirs!r}{_closest_text(theirs, found) if not matches else ''}."
                f" Columns found: {shown(found)}."
            )
        resolved[project] = matches[0]
    taken = set(resolved.values())
    for project in COLUMNS:
        if project in resolved:
            continue
        exact = [project] if project in found and project not in taken else []
        matches = exact or [c for c in by_fold.get(project, []) if c not in taken]
        if len(matches) > 1:
            raise RawTitlesError(
                f"{source} has several columns that could be {project}: {shown(matches)}."
                f" Name the one to use in {COLUMN_MAP_PARAMETER} "
                f"({{{project}: {matches[0]}}})."
            )
        if matches:
            resolved[project] = matches[0]
            taken.add(matches[0])
    missing = [column for column in REQUIRED if column not in resolved]
    if missing:
        hints = [f"{c}: {hint!r}?" for c in missing if (hint := _closest(c, found))]
        raise RawTitlesError(
            f"{source} is missing column(s) {missing}: a catalogue needs a title "
            f"and a description column{' (' + '; '.join(hints) + ')' if hints else ''}."
            f" If the file names them otherwise, map them in {COLUMN_MAP_PARAMETER} "
            "(for example columns: {title: name, description: synopsis}). "
            f"Columns found: {shown(found)}."
        )
    return {project: resolved[project] for project in COLUMNS if project in resolved}


def to_project_columns(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    source: str,
    *,
    strict: bool = True,
) -> pd.DataFrame:
    """The table under the project's column names, only the columns it knows."""
    resolved = resolve_columns(frame.columns, columns, source, strict=strict)
    renamed = frame.loc[:, list(resolved.values())]
    renamed.columns = list(resolved)
    return renamed


def content_ids(titles: pd.DataFrame) -> pd.Series:
    """Ids made from each row's title and description, for a file without show_id.

    The same title and description give the same id on every run and in
    every file (the training catalogue and the new titles alike), so the
    feature cache, continuity between runs and assign work as with real ids.

    Returns:
        ``c`` and 16 hexadecimal digits (BLAKE2b of the stripped title and
        description) per row.
    """
    text = [
        titles[column].astype("string").fillna("").str.strip().tolist()
        for column in ("title", "description")
    ]
    return pd.Series(
        [
            "c"
            + hashlib.blake2b(
                f"{title}\x1f{description}".encode(), digest_size=8
            ).hexdigest()
            for title, description in zip(*text, strict=True)
        ],
        index=titles.index,
        dtype=object,
    )


# ---- checks when a run starts -------------------------------------------------------


def check_titles_header(
    path: str | os.PathLike,
    columns: Mapping[str, str] | None = None,
    *,
    file_format: str | None = None,
    load_args: dict[str, Any] | None = None,
    what: str = "Raw catalogue",
    env_var: str = ENV_VAR,
    strict: bool = True,
) -> dict[str, str]:
    """Fail fast, naming the file, when its header cannot be a catalogue's.

    Reads at most :data:`MAX_HEADER_BYTES` (a Parquet file's schema only),
    so a huge one-line file, a pipe or a device fails in a moment.

    Returns:
        The resolved columns (see :func:`resolve_columns`).

    Raises:
        RawTitlesError: The file is missing, not a regular file, empty, not
            text, its first line is too long, it is not the format it says,
            or its columns do not resolve (with a hint when it looks like it
            uses another delimiter).
    """
    path = Path(path)
    file_format = file_format_of(path, file_format)
    load_args = {**_default_load_args(path, file_format), **(load_args or {})}
    _check_regular_file(path, what, env_var)
    if file_format == "parquet":
        found = _parquet_header(path, what)
        return resolve_columns(found, columns, str(path), strict=strict)
    head = _read_head(path, what, load_args)
    if file_format == "jsonl":
        found = _jsonl_header(path, what, head, load_args)
        return resolve_columns(found, columns, str(path), strict=strict)
    found, line = _csv_header(path, what, head, load_args)
    try:
        return resolve_columns(found, columns, str(path), strict=strict)
    except RawTitlesError as error:
        raise RawTitlesError(f"{error}{_delimiter_hint(line, load_args)}") from None


def check_titles_table(
    raw: pd.DataFrame,
    types: Sequence[str],
    columns: Mapping[str, str] | None = None,
    source: str = "The raw titles table",
) -> pd.DataFrame:
    """The loaded catalogue under the project's names, with rows of a kept type.

    Returns:
        The table restricted to the project's columns it has.

    Raises:
        RawTitlesError: Its columns do not resolve, it has no rows, or it has
            a ``type`` column and no title of ``types``.
    """
    titles = to_project_columns(raw, columns, source)
    if titles.empty:
        raise RawTitlesError(f"Raw catalogue {source} has a header but no rows.")
    if "type" in titles:
        check_types(titles["type"], types, source=source)
    return titles


def check_titles_file(
    path: str | os.PathLike,
    types: Sequence[str],
    columns: Mapping[str, str] | None = None,
    *,
    file_format: str | None = None,
    load_args: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Fail fast, naming the file, when the raw catalogue cannot be used.

    The header first (bounded, :func:`check_titles_header`), then the whole
    table (:func:`check_titles_table`).

    Returns:
        The table under the project's column names.
    """
    check_titles_header(path, columns, file_format=file_format, load_args=load_args)
    raw = read_catalogue(path, file_format, load_args)
    return check_titles_table(raw, types, columns, source=str(path))


def check_new_titles_file(
    path: str | os.PathLike,
    columns: Mapping[str, str] | None = None,
    *,
    file_format: str | None = None,
    load_args: dict[str, Any] | None = None,
) -> None:
    """Fail fast, naming the file, when the new titles to assign cannot be used.

    The same checks as for the raw catalogue, with the same column map: a
    title and a description column are required, a ``show_id`` is made when
    the file has none, and a mapped optional column it lacks is no error.

    Raises:
        RawTitlesError: The header cannot be a catalogue's, or it has no rows.
    """
    check_titles_header(
        path,
        columns,
        file_format=file_format,
        load_args=load_args,
        what="New titles file",
        env_var=NEW_TITLES_ENV_VAR,
        strict=False,
    )
    if read_catalogue(path, file_format, load_args).empty:
        raise RawTitlesError(f"New titles file {path} has a header but no rows.")


def _check_regular_file(path: Path, what: str, env_var: str) -> None:
    """Refuse what is not a regular, non-empty file, without opening it.

    Opening a named pipe would wait for a writer; /dev/zero never ends.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        raise RawTitlesError(f"{what} {path} does not exist.") from None
    except OSError as error:
        raise RawTitlesError(
            f"{what} {path} cannot be read: {error.strerror}."
        ) from None
    if stat.S_ISDIR(status.st_mode):
        raise RawTitlesError(
            f"{what} {path} is a directory; expected a file. Set {env_var} "
            "to the file itself."
        )
    if not stat.S_ISREG(status.st_mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(status.st_mode)
            else "a device"
            if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode)
            else "a socket"
            if stat.S_ISSOCK(status.st_mode)
            else "not a file"
        )
        raise RawTitlesError(
            f"{what} {path} is not a regular file ({kind}); expected a catalogue "
            f"file. Set {env_var} to one."
        )
    if status.st_size == 0:
        raise RawTitlesError(f"{what} {path} is empty (0 bytes).")


def _read_head(path: Path, what: str, load_args: dict[str, Any]) -> bytes:
    """The file's first :data:`MAX_HEADER_BYTES`, decompressed when it says so.

    Raises:
        RawTitlesError: The first line is longer than that.
    """
    suffix = path.suffix.lower()
    compression = load_args.get("compression")
    opener = _COMPRESSED.get(suffix) if compression in (None, "infer") else None
    try:
        with (opener or open)(path, "rb") as file:
            head = file.read(MAX_HEADER_BYTES + 1)
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise RawTitlesError(f"{what} {path} cannot be read: {error}") from None
    if b"\n" not in head and len(head) > MAX_HEADER_BYTES:
        raise RawTitlesError(
            f"{what} {path} has no line break in its first "
            f"{MAX_HEADER_BYTES // 2**20} MB: its header cannot be a catalogue's "
            "(is this the right file?)."
        )
    return head


def _decode(path: Path, what: str, head: bytes, encoding: str, kind: str) -> str:
    """The head's complete lines as text, or a message naming the encoding."""
    if len(head) > MAX_HEADER_BYTES:  # cut after the last whole line
        head = head[: head.rfind(b"\n") + 1]
    wide = encoding.lower().replace("-", "").replace("_", "").startswith("utf16") or (
        encoding.lower().replace("-", "").replace("_", "").startswith("utf32")
    )
    name = encoding.upper() if encoding.lower().startswith("utf") else encoding
    if b"\x00" in head and not wide:
        raise RawTitlesError(
            f"{what} {path} is not a {name} {kind} file: it holds NUL bytes, so it is not "
            "text (a binary file, or another format?)."
        )
    try:
        return head.decode(encoding)
    except LookupError:
        raise RawTitlesError(
            f"load_args encoding {encoding!r} for {path} is not an encoding Python "
            "knows (for example utf-8, latin-1, cp1252)."
        ) from None
    except UnicodeDecodeError as error:
        raise RawTitlesError(
            f"{what} {path} is not a {name} {kind} file: byte "
            f"{error.object[error.start : error.start + 1]!r} at position "
            f"{error.start:,} cannot be read as {encoding}. Set load_args encoding "
            "to the file's encoding (for example latin-1 or cp1252)."
        ) from None


# Reading arguments that do not change what the header is.
_NOT_FOR_HEADER = (
    "encoding",
    "nrows",
    "chunksize",
    "iterator",
    "skipfooter",
    "compression",
    "dtype",
    "converters",
    "parse_dates",
    "storage_options",
    "low_memory",
    "memory_map",
)


def _csv_header(
    path: Path, what: str, head: bytes, load_args: dict[str, Any]
) -> tuple[list[str], str]:
    """The column names of a CSV file from its head, and its first line."""
    if head.startswith(b"PAR1"):
        raise RawTitlesError(
            f"{what} {path} is a Parquet file, read as CSV: name it .parquet or set "
            "file_format: parquet in its catalog entry."
        )
    text = _decode(path, what, head, str(load_args.get("encoding", "utf-8")), "CSV")
    line = text.lstrip("\ufeff").split("\n", 1)[0]
    if line.lstrip().startswith("{"):
        raise RawTitlesError(
            f"{what} {path} looks like JSON Lines, read as CSV: name it .jsonl or "
            "set file_format: jsonl in its catalog entry."
        )
    args = {k: v for k, v in load_args.items() if k not in _NOT_FOR_HEADER}
    try:
        header = pd.read_csv(io.StringIO(text), nrows=0, **args)
    except pd.errors.EmptyDataError:
        raise RawTitlesError(f"{what} {path} has no header row.") from None
    except (pd.errors.ParserError, ValueError, TypeError) as error:
        raise RawTitlesError(
            f"{what} {path} cannot be read as CSV with load_args "
            f"{_short(args)}: {_short(error)}"
        ) from None
    return [str(column) for column in header.columns], line


def _delimiter_hint(line: str, load_args: dict[str, Any]) -> str:
    """A sentence when the header line reads better with another delimiter."""
    sep = load_args.get("sep", load_args.get("delimiter", ","))
    try:
        sniffed = (
            csv.Sniffer().sniff(line[:MAX_HEADER_BYTES], delimiters=",;\t|").delimiter
        )
    except csv.Error:
        return ""
    if sniffed == sep or len(line.split(sniffed)) <= len(line.split(str(sep))):
        return ""
    return (
        f" The header looks {sniffed!r}-delimited, not {sep!r}: set load_args "
        f"sep: {sniffed!r} in the catalog entry (conf/local/catalog.yml)."
    )


def _parquet_header(path: Path, what: str) -> list[str]:
    """The column names in a Parquet file's schema (its footer only)."""
    from pyarrow import parquet

    with open(path, "rb") as file:
        magic = file.read(4)
    if magic != b"PAR1":
        raise RawTitlesError(
            f"{what} {path} is not a Parquet file (it does not start with PAR1); "
            "set file_format in its catalog entry if it is CSV or JSON Lines."
        )
    try:
        return [str(name) for name in parquet.read_schema(path).names]
    except Exception as error:  # noqa: BLE001  (pyarrow's errors have no common base)
        raise RawTitlesError(
            f"{what} {path} is not a readable Parquet file: {_short(error)}"
        ) from None


def _jsonl_header(
    path: Path, what: str, head: bytes, load_args: dict[str, Any]
) -> list[str]:
    """The keys of a JSON Lines file's first record."""
    text = _decode(
        path, what, head, str(load_args.get("encoding", "utf-8")), "JSON Lines"
    )
    line = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise RawTitlesError(
            f"{what} {path} is not JSON Lines: its first line is not JSON ({error.msg})."
        ) from None
    if not isinstance(record, dict):
        raise RawTitlesError(
            f"{what} {path} is not JSON Lines of records: its first line is a "
            f"{type(record).__name__}, not an object with one key per column."
        )
    return [str(key) for key in record]


def _short(value: Any, limit: int = 200) -> str:
    """A value for a message, cut to ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def check_columns(
    columns: Sequence[str],
    source: str,
    column_map: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Refuse a table without a title or description column, or a bad map.

    Returns:
        The resolved columns (see :func:`resolve_columns`).
    """
    return resolve_columns(columns, column_map, source)


def check_types(present: pd.Series, types: Sequence[str], source: str) -> None:
    """Refuse a table with no title of the selected types, listing those it has."""
    if not present.isin(types).any():
        found = sorted(present.dropna().astype(str).unique().tolist())[:10]
        raise RawTitlesError(
            f"{source} has no title whose type is in {list(types)}; types found: "
            f"{shown(found)}. Set data_processing.types to the types to keep."
        )


# ---- cleaning -------------------------------------------------------------------

# What the pipelines read: the key, the type filter, the title shown in every
# output and the description the model encodes. A row missing one is dropped;
# other missing values are filled, so that a catalogue whose optional columns
# are mostly empty keeps its titles. A required column the catalogue does not
# have at all (no type column) drops nothing.
DEFAULT_REQUIRED_COLUMNS = ("show_id", "type", "title", "description")
ALWAYS_REQUIRED = ("show_id", "description")
NO_DIRECTOR = "No Data"  # the notebook's filler for a missing director
UNKNOWN = "Unknown"
YEAR_COLUMN = "release_year"


def clean_catalogue(
    titles: pd.DataFrame, types: Sequence[str], required_columns: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep the titles the model can use, and say what each rule removed.

    The rules, in the notebook's order: blank or whitespace-only cells count
    as missing; a row missing a required column is dropped; other missing
    values are filled (``director`` with "No Data" as the notebook, other text
    columns with "Unknown"; ``release_year`` stays missing, and a year that is
    not a number becomes missing); duplicate rows are dropped; titles whose
    ``type`` is not in ``types`` are dropped. With every column but
    ``director`` required, this is the notebook's cleaning.

    A catalogue may lack any column but ``title`` and ``description``: a
    missing ``show_id`` is made from the title and description
    (:func:`content_ids`; rows with the same two then count as duplicates), a
    missing ``type`` keeps every row, and a missing optional column stays
    absent from the result (the report lists it in ``absent_columns``).

    Args:
        titles: The raw table under the project's column names
            (:func:`to_project_columns`).
        types: The ``type`` values to keep.
        required_columns: Columns whose missing value drops a row.

    Returns:
        The kept titles (index reset) and a JSON-ready report: the rows after
        each rule, the rows each rule removed, the column that removed most,
        and the values filled per column.
    """
    frame = titles.loc[:, [column for column in COLUMNS if column in titles]]
    absent = [column for column in COLUMNS if column not in frame]
    required = [c for c in dict.fromkeys(required_columns) if c in frame or c == KEY]
    text = frame.select_dtypes(include=["object", "string"]).columns
    frame[text] = frame[text].apply(_blank_as_missing)
    ids_made = KEY not in frame
    if ids_made:
        frame.insert(0, KEY, content_ids(frame))
    missing = frame[required].isna()
    by_column = {column: int(count) for column, count in missing.sum().items()}
    kept = frame.loc[~missing.any(axis=1)]
    after_required = len(kept)
    filled = {}
    for column in frame.columns:
        if column in required or column == YEAR_COLUMN:
            continue
        count = int(kept[column].isna().sum())
        if count:
            filler = NO_DIRECTOR if column == "director" else UNKNOWN
            kept = kept.assign(**{column: kept[column].fillna(filler)})
            filled[column] = count
    not_a_year = 0
    if YEAR_COLUMN in kept:
        years = pd.to_numeric(kept[YEAR_COLUMN], errors="coerce")
        not_a_year = int((years.isna() & kept[YEAR_COLUMN].notna()).sum())
        kept = kept.assign(**{YEAR_COLUMN: years.astype("Int64")})
    deduplicated = kept.drop_duplicates()
    if ids_made:  # the same title and description: one title to the model
        deduplicated = deduplicated.drop_duplicates(subset=KEY)
    typed = (
        deduplicated.loc[deduplicated["type"].isin(types)]
        if "type" in deduplicated
        else deduplicated
    )
    removed = {
        "missing_required": len(frame) - after_required,
        "duplicates": after_required - len(deduplicated),
        "other_types": len(deduplicated) - len(typed),
    }
    # Why rows went, with the parameter that decides each rule.
    reasons = [
        {
            "reason": f"missing {column}",
            "column": column,
            "rows": count,
            "parameter": "data_processing.required_columns",
        }
        for column, count in by_column.items()
        if count
    ]
    reasons.append(
        {
            "reason": "duplicate rows",
            "column": None,
            "rows": removed["duplicates"],
            "parameter": None,
        }
    )
    if "type" in frame:
        reasons.append(
            {
                "reason": f"type not in {list(types)}",
                "column": "type",
                "rows": removed["other_types"],
                "parameter": "data_processing.types",
            }
        )
    most = max(reasons, key=lambda reason: reason["rows"])
    report = {
        "rows": {
            "raw": len(frame),
            "after_required_columns": after_required,
            "after_drop_duplicates": len(deduplicated),
            "after_type_filter": len(typed),
        },
        "required_columns": required,
        "removed": removed,
        "missing_required_by_column": by_column,
        "removed_most": most if most["rows"] else None,
        "filled": filled,
        "release_year_not_a_number": not_a_year,
        # Columns this catalogue does not have: their plots say so.
        "absent_columns": [column for column in absent if column != KEY],
        "show_id": "made from title and description" if ids_made else "from the file",
    }
    return typed.reset_index(drop=True), report


def _blank_as_missing(values: pd.Series) -> pd.Series:
    """Empty or whitespace-only text counts as missing."""
    blank = values.astype("string").str.strip().eq("").fillna(False)
    return values.mask(blank.astype(bool))


def describe_cleaning(report: dict[str, Any]) -> str:
    """The cleaning report in one sentence, for the log and for error messages."""
    rows, removed = report["rows"], report["removed"]
    by_column = {c: n for c, n in report["missing_required_by_column"].items() if n}
    columns = ", ".join(f"{column} {count:,}" for column, count in by_column.items())
    most = report["removed_most"]
    most_text = (
        f"{most['reason']} ({most['rows']:,} rows"
        + (f"; set by {most['parameter']})" if most["parameter"] else ")")
        if most
        else "nothing"
    )
    return (
        f"Of {rows['raw']:,} rows, {removed['missing_required']:,} lacked a required "
        f"column ({columns or 'none'}), {removed['duplicates']:,} were duplicates and "
        f"{removed['other_types']:,} had another type; {rows['after_type_filter']:,} "
        f"kept. Removed most: {most_text}."
    )


# ---- limits that depend on the data, checked before any output is written ------


def check_titles_left(
    cleaned: pd.DataFrame,
    report: dict[str, Any] | None,
    source: str,
    *,
    n_clusters: int | None = None,
    perplexity: float | None = None,
    max_points: int | None = None,
) -> None:
    """Refuse a run whose clean titles cannot give the outputs it asks for.

    The run-start hook calls this with the titles the cleaning will keep, so
    a catalogue that cannot be clustered fails in a second, before anything
    is written, instead of after a dozen outputs were overwritten.

    Args:
        cleaned: The titles the cleaning keeps.
        report: The cleaning report (``None`` when the run starts from the
            already cleaned table).
        source: The file the titles come from, for the message.
        n_clusters: ``dec_clustering.n_clusters`` when the run clusters.
        perplexity: ``visualization.perplexity`` when the run projects.
        max_points: ``visualization.max_points`` when the run projects.

    Raises:
        RawTitlesError: Naming the counts, the rule that removed most rows
            and the parameter to change.
    """
    how = f" {describe_cleaning(report)}" if report else ""
    after = "after cleaning" if report else "in the cleaned table"
    count = len(cleaned)
    if count == 0:
        raise RawTitlesError(
            f"No title of {source} is left {after}.{how}{_change(report)}"
        )
    if count == 1:
        raise RawTitlesError(
            f"Only 1 title of {source} is left {after}; clustering needs at least "
            f"2.{how}{_change(report)}"
        )
    descriptions = cleaned["description"].astype(str).str.strip()
    if not descriptions.str.contains(r"\w", regex=True).any():
        raise RawTitlesError(
            f"None of the {count:,} descriptions of {source} {after} holds a word "
            "(only punctuation or symbols): there is nothing to encode."
        )
    distinct = descriptions.str.lower().nunique()
    if distinct == 1:
        raise RawTitlesError(
            f"All {count:,} descriptions of {source} {after} are the same "
            f"({descriptions.iloc[0][:60]!r}): nothing tells the titles apart. "
            "Check the description column."
        )
    if n_clusters is not None and distinct < n_clusters:
        raise RawTitlesError(
            f"dec_clustering.n_clusters is {n_clusters}, but {source} has only "
            f"{distinct:,} distinct descriptions among {count:,} titles {after}."
            f"{how} Set dec_clustering.n_clusters to at most {distinct} "
            f"(--params dec_clustering.n_clusters={min(distinct, 2 + distinct // 10)})"
            " or keep more titles."
        )
    if perplexity is not None:
        points = min(count, max_points or count)
        if points <= perplexity:
            raise RawTitlesError(
                f"visualization.perplexity is {perplexity:g}, but t-SNE places only "
                f"{points:,} titles of {source} and needs more titles than its "
                f"perplexity.{how} Set visualization.perplexity below {points}."
            )


def _change(report: dict[str, Any] | None) -> str:
    """Which parameter to change so that more titles are kept."""
    most = report and report["removed_most"]
    if most and most["parameter"]:
        return f" To keep more titles, change {most['parameter']}."
    return ""
