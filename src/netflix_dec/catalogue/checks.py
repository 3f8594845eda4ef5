"""The checks made when a run starts, before any output is touched.

A file that is not a regular file, cannot be decoded, or whose header (read
with a bounded read of :data:`MAX_HEADER_BYTES`) lacks a title or description
column fails in a moment with a message naming the file, the column and what
was expected; a loaded table is checked for the selected title types.
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .columns import resolve_columns, shown, to_project_columns
from .formats import COMPRESSED, default_load_args, file_format_of, read_catalogue
from .schema import ENV_VAR, NEW_TITLES_ENV_VAR, RawTitlesError

# Reading a header reads at most this much: a file whose first line is longer
# is no catalogue (a 2 GB file without a newline once grew a run to 21 GB).
MAX_HEADER_BYTES = 1 << 20
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
    load_args = {**default_load_args(path, file_format), **(load_args or {})}
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
    opener = COMPRESSED.get(suffix) if compression in (None, "infer") else None
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
