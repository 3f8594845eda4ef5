"""Spreadsheet-safe text cells: escaping cells a spreadsheet would run as formulas.

Titles and descriptions come from a catalogue nobody here controls; a cell
such as ``=HYPERLINK(...)`` would run as a formula when someone opens a CSV
output in Excel or LibreOffice. :func:`escape_formulas` quotes such cells
(OWASP's advice) and :func:`unescape_formulas` removes exactly that quote;
:class:`netflix_dec.datasets.SpreadsheetSafeCSVDataset` applies them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"), after any
# number of quotes already added by an earlier escape.
_FORMULA = r"^'*[=+\-@\t\r]"


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``'`` before every text cell that starts like a formula."""
    return _map_formulas(frame, lambda text: "'" + text)


def unescape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the quote :func:`escape_formulas` added removed."""
    return _map_formulas(frame, lambda text: text.str[1:])


def _map_formulas(frame: pd.DataFrame, change: Any) -> pd.DataFrame:
    """Apply ``change`` to the text cells that start like a formula.

    Vectorised over each text column, and only the (few) matching cells are
    rewritten: a million-row table is escaped in about a second.
    """
    changed = None
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        values = frame[column]
        try:
            hits = values.str.contains(_FORMULA, regex=True, na=False)
        except AttributeError:  # an object column without text
            continue
        # Non-text cells (numbers in an object column) give NaN: no hit.
        rows = np.flatnonzero(hits.fillna(False).to_numpy(dtype=bool))
        rows = rows[[isinstance(values.iat[row], str) for row in rows]]
        if rows.size:
            if changed is None:
                changed = frame.copy()
            where = changed.columns.get_loc(column)
            changed.iloc[rows, where] = change(values.iloc[rows]).to_numpy()
    return frame if changed is None else changed
