"""The points table: what the map and the explorer draw, built once.

One row per drawn title: its 2-D position, cluster, confidence and the text
shown on hover; and, recorded once for the whole table, how many titles were
clustered, whether the rows are a sample, the cluster labels and how the
positions were made (or why they were not). Stored as JSON: ``meta`` plus
``columns`` (one list per column). No Kedro, no plotting library here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

COLUMNS = (
    "row",
    "show_id",
    "x",
    "y",
    "cluster",
    "confidence",
    "title",
    "director",
    "release_year",
    "listed_in",
    "description",
    "new",
)
"""``row`` is the title's position among the clustered titles (the row of its
features and embeddings); ``new`` marks titles placed by an assign run."""


LABEL_WORDS = 3
"""Top words per cluster in labels."""


def label(cluster: int, words: str | None) -> str:
    """The one label format of the map and the explorer: ``"3 · love, family"``."""
    words = " ".join((words or "").split())  # one line per legend entry
    return f"{cluster} · {words}" if words else f"{cluster}"


def words_from_summary(summary: dict[str, Any]) -> dict[int, str]:
    """Cluster id → its name in the summary, else its top words (older summaries)."""
    return {
        int(item["cluster"]): item.get("name")
        or ", ".join((item.get("top_words") or [])[:LABEL_WORDS])
        for item in summary["clusters"]
    }


def to_record(frame: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready record of the table; missing positions become null."""
    columns = {}
    for column in COLUMNS:
        values = frame[column].astype(object).where(frame[column].notna(), None)
        columns[column] = [
            v.item() if isinstance(v, np.generic) else v for v in values.tolist()
        ]
    return {"meta": meta, "columns": columns}


def from_record(record: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and its meta from :func:`to_record`'s output."""
    frame = pd.DataFrame(record["columns"], columns=list(COLUMNS))
    frame["x"] = pd.to_numeric(frame["x"], errors="coerce")
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    frame["new"] = frame["new"].astype(bool)
    return frame, record["meta"]


def caption(meta: dict[str, Any], n_drawn: int, n_new: int = 0) -> str:
    """The title both pictures carry: what is drawn, from what, of how many."""
    text = (
        f"{meta['titles']:,} titles in {meta['clusters_in_use']} DEC clusters — "
        f"t-SNE of the {meta['source_name']}"
    )
    if meta["sampled"]:
        text += f" (a random sample of {n_drawn - n_new:,})"
    if n_new:
        text += f", with {n_new:,} new titles placed on the map"
    return text
