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

HOVER_COLUMNS = ("director", "release_year", "listed_in", "description")
"""The catalogue's columns shown on hover, where the catalogue has them."""


def training_rows(
    clusters: pd.DataFrame,
    titles: pd.DataFrame,
    rows: np.ndarray,
    positions: np.ndarray | None,
) -> pd.DataFrame:
    """The table's rows of clustered titles: ``rows`` of them, at ``positions``.

    Args:
        clusters: Each clustered title's cluster and confidence.
        titles: The clustered titles, in the same order.
        rows: The titles drawn (all, or a sample), as row numbers.
        positions: Their map positions (rows × 2), or None: no map.
    """
    x = y = np.full(len(rows), np.nan)
    if positions is not None:
        x, y = positions[:, 0], positions[:, 1]
    frame = pd.DataFrame(
        {
            "row": rows,
            "show_id": clusters["show_id"].to_numpy()[rows],
            "x": x,
            "y": y,
            "cluster": clusters["cluster"].to_numpy()[rows].astype(int),
            "confidence": clusters["confidence"].to_numpy()[rows].astype(float),
            "title": titles["title"].to_numpy()[rows],
            **{c: titles[c].to_numpy()[rows] for c in HOVER_COLUMNS if c in titles},
            "new": False,
        }
    )
    for column in HOVER_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame


def new_rows(
    assigned_titles: pd.DataFrame, new_titles: pd.DataFrame, x: Any, y: Any
) -> pd.DataFrame:
    """The table's rows of titles an assign run placed (``new`` true, no ``row``)."""
    return pd.DataFrame(
        {
            "row": -1,
            "show_id": assigned_titles["show_id"].to_numpy(),
            "x": x,
            "y": y,
            "cluster": assigned_titles["cluster"].to_numpy().astype(int),
            "confidence": assigned_titles["confidence"].to_numpy().astype(float),
            "title": assigned_titles["title"].to_numpy(),
            **{
                c: new_titles[c].to_numpy() if c in new_titles else None
                for c in HOVER_COLUMNS
            },
            "new": True,
        }
    )


def label(cluster: int, words: str | None) -> str:
    """The one label format of the map and the explorer: ``"3 · love, family"``."""
    words = " ".join((words or "").split())  # one line per legend entry
    return f"{cluster} · {words}" if words else f"{cluster}"


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


SHORT_NAME_CHARS = 24
"""Longest cluster name written on a map."""


def short_name(
    cluster: int, words: str | None, max_chars: int = SHORT_NAME_CHARS
) -> str:
    """The name written on a map: ``"3 · love, romance"``.

    The first two words of the name's word part (before its `` · genre``),
    or a name of the user's shortened to ``max_chars``.
    """
    head = " ".join((words or "").split(" · ")[0].split())
    head = ", ".join([w.strip() for w in head.split(",")][:2]) if "," in head else head
    if len(head) > max_chars:
        head = head[: max_chars - 1].rstrip(" ,") + "…"
    return label(cluster, head)


NAME_ASPECT = 3.0
"""How much wider than tall a name on the map is, roughly."""


def label_positions(frame: pd.DataFrame, spread: float = 0.06) -> dict[int, tuple]:
    """Where to write each cluster's name: on its titles, kept apart.

    Each name starts at the cluster's member point nearest to the median of
    its members (a point of the cluster, even when the cluster lies in
    several islands); names closer than ``spread`` of the map's size are
    then pushed apart a few times, so they overlap less. Distances count a
    horizontal gap :data:`NAME_ASPECT` times less than a vertical one: names
    are wide, so side by side they need more room than one above the other.

    Args:
        frame: Rows with ``x``, ``y`` (finite) and ``cluster``.
        spread: Least distance between two names, as a share of the map.

    Returns:
        Cluster id → ``(x, y)``.
    """
    anchors = {}
    for cluster, members in frame.groupby("cluster"):
        xy = members[["x", "y"]].to_numpy(dtype=float)
        centre = np.median(xy, axis=0)
        anchors[int(cluster)] = xy[np.argmin(((xy - centre) ** 2).sum(axis=1))]
    if len(anchors) < 2:
        return {c: (float(p[0]), float(p[1])) for c, p in anchors.items()}
    ids = list(anchors)
    stretch = np.array([1.0 / NAME_ASPECT, 1.0])
    points = np.array([anchors[c] for c in ids]) * stretch
    size = np.ptp(frame[["x", "y"]].to_numpy(dtype=float), axis=0).max() or 1.0
    least = spread * size
    for _ in range(30):
        gap = points[:, None, :] - points[None, :, :]
        distance = np.sqrt((gap**2).sum(axis=2)) + np.eye(len(ids))
        near = (distance < least) & ~np.eye(len(ids), dtype=bool)
        if not near.any():
            break
        push = (
            gap / distance[..., None] * (least - distance)[..., None] * near[..., None]
        )
        points += 0.5 * push.sum(axis=1)
    points /= stretch
    return {c: (float(p[0]), float(p[1])) for c, p in zip(ids, points, strict=False)}
