"""Cleaning the raw catalogue: which titles the model can use, and why others go.

One function cleans for the data_processing node and for the run-start check,
and reports what each rule removed, so the log and the error messages can say it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .columns import content_ids
from .schema import COLUMNS, KEY

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
