"""The column map: which of a file's columns is each project column.

Columns are found by the project's names (case, spaces and hyphens aside) or
through ``data_processing.columns``, read here and nowhere else; a title
without a ``show_id`` gets an id made from its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import Any

import pandas as pd

from .schema import COLUMN_MAP_PARAMETER, COLUMNS, REQUIRED, RawTitlesError

# Messages list at most this many columns, each cut to this many characters.
_SHOWN_COLUMNS = 20
_SHOWN_CHARS = 60

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
