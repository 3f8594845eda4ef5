"""The raw catalogue: its schema, where it is read from, and the checks on it.

One home for the contract with the input table, so that the hooks, the
data_processing nodes and the tests agree on it. The table is Kaggle's
"Netflix Movies and TV Shows" (``netflix_titles.csv``) or any sibling with the
same 12 columns. This module imports no pipeline and no model library.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

# The 12 columns of the Kaggle table, in its order.
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

ENV_VAR = "NETFLIX_TITLES_CSV"
REAL_TITLES_PATH = "data/01_raw/netflix_titles.csv"
SAMPLE_PATH = Path("data/01_raw/sample/netflix_titles_sample.csv")


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
    if Path(real).is_file():
        return real
    return sample


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


def check_titles_file(path: str | Path, types: Sequence[str]) -> None:
    """Fail fast, naming the file, when the raw catalogue cannot be used.

    Runs before the pipeline starts (see ``hooks.py``), so a wrong file costs
    a second, not a run. Reads the header and the ``type`` column only.

    Raises:
        RawTitlesError: The file is missing, a directory, empty, not CSV, has
            no rows, lacks some of the 12 Kaggle columns, or holds no title of
            the selected types.
    """
    path = Path(path)
    if path.is_dir():
        raise RawTitlesError(
            f"Raw catalogue {path} is a directory; expected a CSV file such as "
            f"Kaggle's netflix_titles.csv. Set {ENV_VAR} to the file itself."
        )
    if not path.is_file():
        raise RawTitlesError(f"Raw catalogue {path} does not exist.")
    if path.stat().st_size == 0:
        raise RawTitlesError(f"Raw catalogue {path} is empty (0 bytes).")
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise RawTitlesError(
            f"Raw catalogue {path} is not a UTF-8 CSV file: {error}"
        ) from error
    except pd.errors.EmptyDataError as error:
        raise RawTitlesError(f"Raw catalogue {path} has no header row.") from error
    check_columns(header.columns, source=str(path))
    types_present = pd.read_csv(path, usecols=["type"], encoding="utf-8")["type"]
    if types_present.empty:
        raise RawTitlesError(f"Raw catalogue {path} has a header but no rows.")
    check_types(types_present, types, source=str(path))


def check_columns(columns: Sequence[str], source: str) -> None:
    """Refuse a table that lacks some of the 12 Kaggle columns, naming them."""
    missing = [column for column in COLUMNS if column not in set(columns)]
    if missing:
        raise RawTitlesError(
            f"{source} is missing column(s) {missing}; the Kaggle 'Netflix Movies "
            f"and TV Shows' file has these 12 columns: {list(COLUMNS)}. "
            f"Columns found: {list(columns)}."
        )


def check_types(present: pd.Series, types: Sequence[str], source: str) -> None:
    """Refuse a table with no title of the selected types, listing those it has."""
    if not present.isin(types).any():
        found = sorted(present.dropna().astype(str).unique().tolist())[:10]
        raise RawTitlesError(
            f"{source} has no title whose type is in {list(types)}; types found: "
            f"{found}. Set data_processing.types to the types to keep."
        )
