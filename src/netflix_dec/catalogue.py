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
from typing import Any

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

# New titles to assign to trained clusters: the Kaggle columns, or at least these.
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
    header = _read_header(path, "Raw catalogue", ENV_VAR)
    check_columns(header.columns, source=str(path))
    types_present = pd.read_csv(path, usecols=["type"], encoding="utf-8")["type"]
    if types_present.empty:
        raise RawTitlesError(f"Raw catalogue {path} has a header but no rows.")
    check_types(types_present, types, source=str(path))


def check_new_titles_file(path: str | Path) -> None:
    """Fail fast, naming the file, when the new titles to assign cannot be used.

    The same checks as :func:`check_titles_file`, except that only
    ``show_id``, ``title`` and ``description`` are required.

    Raises:
        RawTitlesError: The file is missing, a directory, empty, not CSV, has
            no rows or lacks a required column.
    """
    path = Path(path)
    header = _read_header(path, "New titles file", NEW_TITLES_ENV_VAR)
    missing = [c for c in NEW_TITLES_COLUMNS if c not in set(header.columns)]
    if missing:
        raise RawTitlesError(
            f"{path} is missing column(s) {missing}; new titles need at least "
            f"{list(NEW_TITLES_COLUMNS)} (the 12 Kaggle columns are fine too). "
            f"Columns found: {list(header.columns)}."
        )
    if pd.read_csv(path, usecols=["show_id"], encoding="utf-8").empty:
        raise RawTitlesError(f"New titles file {path} has a header but no rows.")


def _read_header(path: Path, what: str, env_var: str) -> pd.DataFrame:
    """The header of a CSV file, or an error naming what is wrong with the file."""
    if path.is_dir():
        raise RawTitlesError(
            f"{what} {path} is a directory; expected a CSV file. Set {env_var} "
            "to the file itself."
        )
    if not path.is_file():
        raise RawTitlesError(f"{what} {path} does not exist.")
    if path.stat().st_size == 0:
        raise RawTitlesError(f"{what} {path} is empty (0 bytes).")
    try:
        return pd.read_csv(path, nrows=0, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise RawTitlesError(
            f"{what} {path} is not a UTF-8 CSV file: {error}"
        ) from error
    except pd.errors.EmptyDataError as error:
        raise RawTitlesError(f"{what} {path} has no header row.") from error


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


# ---- cleaning -------------------------------------------------------------------

# What the pipelines read: the key, the type filter, the title shown in every
# output and the description the model encodes. A row missing one is dropped;
# other missing values are filled, so that a catalogue whose optional columns
# are mostly empty keeps its titles.
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

    Args:
        titles: The raw table with the 12 Kaggle columns.
        types: The ``type`` values to keep.
        required_columns: Columns whose missing value drops a row.

    Returns:
        The kept titles (index reset) and a JSON-ready report: the rows after
        each rule, the rows each rule removed, the column that removed most,
        and the values filled per column.
    """
    required = list(dict.fromkeys([*required_columns]))
    frame = titles.loc[:, list(COLUMNS)]
    text = frame.select_dtypes(include=["object", "string"]).columns
    frame[text] = frame[text].apply(_blank_as_missing)
    missing = frame[required].isna()
    by_column = {column: int(count) for column, count in missing.sum().items()}
    kept = frame.loc[~missing.any(axis=1)]
    after_required = len(kept)
    filled = {}
    for column in COLUMNS:
        if column in required or column == YEAR_COLUMN:
            continue
        count = int(kept[column].isna().sum())
        if count:
            filler = NO_DIRECTOR if column == "director" else UNKNOWN
            kept = kept.assign(**{column: kept[column].fillna(filler)})
            filled[column] = count
    years = pd.to_numeric(kept[YEAR_COLUMN], errors="coerce")
    not_a_year = int((years.isna() & kept[YEAR_COLUMN].notna()).sum())
    kept = kept.assign(**{YEAR_COLUMN: years.astype("Int64")})
    deduplicated = kept.drop_duplicates()
    typed = deduplicated.loc[deduplicated["type"].isin(types)]
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
