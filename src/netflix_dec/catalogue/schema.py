"""The raw catalogue's schema and where it is read from.

The project's 12 column names (Kaggle's "Netflix Movies and TV Shows" table),
which of them clustering needs, the columns a new title to assign carries, the
environment variables and paths that choose the input files, and the error
every check raises. Everything else in :mod:`netflix_dec.catalogue` builds on
these names.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    from_env = os.environ.get(ENV_VAR, "").strip()
    # A raw_titles entry in conf/local replaces the one that reads the variable.
    named = bool(from_env) and Path(from_env).resolve() == path.resolve()
    origin = f"from {ENV_VAR}" if named else "real file"
    return f"Input: {path} ({origin})."
