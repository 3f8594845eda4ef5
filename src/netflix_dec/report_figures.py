"""The catalogue report's PNG figures (matplotlib), drawn from its tables.

The same tables feed the HTML report (:mod:`netflix_dec.report_html`), which
draws them as HTML with counts on hover; these PNGs are for the notebook and
the run's tracking. No Kedro here. Every label is drawn as written: a ``$``
in a cluster name or a country must not start matplotlib's mathtext.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from netflix_dec.lazy import Figure, pyplot
from netflix_dec.points import label as cluster_label

ANNOTATE_SHARE = 0.1
"""Heatmap cells of at least this share carry their percentage."""
NAME_CHARS = 34
"""Longest cluster label on a figure; longer ones end in an ellipsis."""


def literal(text: Any, max_chars: int | None = None) -> str:
    """Text as drawn: shortened, and with ``$`` escaped for matplotlib."""
    text = " ".join(str(text).split())
    if max_chars and len(text) > max_chars:
        text = text[: max_chars - 1].rstrip(" ,·") + "…"
    return text.replace("$", r"\$")


def short_label(cluster: int, name: str, max_chars: int = NAME_CHARS) -> str:
    """``"3 · love, family, young"``, shortened for an axis or a panel title."""
    return literal(cluster_label(int(cluster), name), max_chars)


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, literal(message), ha="center", va="center", wrap=True)
    ax.set_axis_off()


def shares_over_time(shares: pd.DataFrame, bases: Mapping[str, str]) -> Figure:
    """Small multiples: one panel per cluster, its share of each year's titles.

    A line per year basis (year added, release year), on one scale for all
    panels, from the first year with enough titles; years with few titles
    (the table's ``few``) are drawn faint, not left out. The panels are drawn
    in one set of axes: twenty matplotlib axes cost seconds to lay out and
    draw, their lines almost nothing.
    """
    from matplotlib.collections import LineCollection

    clusters = (
        shares[["cluster", "name"]].drop_duplicates("cluster").sort_values("cluster")
    )
    if clusters.empty or shares["titles"].sum() == 0:
        fig, ax = pyplot().subplots(figsize=(9, 3), layout="constrained")
        _empty(ax, "No title has a year added or a release year: nothing to plot.")
        return fig
    # From the first year with enough titles, on a scale those years set: the
    # shares of years with two titles (100%, 50%) would flatten every line.
    enough = shares.loc[~shares["few"].astype(bool)]
    if len(enough):
        shares = shares.loc[shares["year"] >= enough["year"].min()]
        top = float(enough["share"].max())
    else:
        top = float(shares["share"].max())
    top = top or 1.0
    low, high = int(shares["year"].min()), int(shares["year"].max())
    ncols = min(5, len(clusters))
    nrows = math.ceil(len(clusters) / ncols)
    fig, ax = pyplot().subplots(figsize=(3.2 * ncols, 1.9 * nrows + 1.0))
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.7 / fig.get_figheight())
    fig.subplots_adjust(bottom=0.45 / fig.get_figheight())
    colours = dict(zip(bases, ("#1f5fa8", "#d4711c"), strict=False))
    faint: dict[str, list] = {basis: [] for basis in bases}
    solid: dict[str, list] = {basis: [] for basis in bases}
    grouped = {key: frame for key, frame in shares.groupby(["basis", "cluster"])}
    for k, (cluster, name) in enumerate(clusters.itertuples(index=False)):
        col, row = k % ncols, nrows - 1 - k // ncols

        def place(years: np.ndarray, values: np.ndarray, c=col, r=row) -> np.ndarray:
            x = c + 0.06 + 0.9 * (years - low) / max(high - low, 1)
            y = r + 0.05 + 0.7 * np.minimum(values / top, 1.0)
            return np.column_stack([x, y])

        ax.add_patch(
            pyplot().Rectangle(
                (col + 0.04, row + 0.03), 0.94, 0.74, fc="#fafafa", ec="#cccccc"
            )
        )
        ax.text(col + 0.05, row + 0.8, short_label(cluster, name), fontsize=8.5)
        for basis in bases:
            frame = grouped.get((basis, cluster))
            if frame is None:
                continue
            years, share = frame["year"].to_numpy(), frame["share"].to_numpy()
            few = frame["few"].astype(bool).to_numpy()
            faint[basis].append(place(years, share))
            # Solid over the stretches between years with few titles.
            for stretch in np.split(np.arange(len(years)), np.flatnonzero(few)):
                kept = stretch[~few[stretch]]
                if len(kept) > 1:
                    solid[basis].append(place(years[kept], share[kept]))
    for basis, text in bases.items():
        ax.add_collection(
            LineCollection(faint[basis], colors=colours[basis], alpha=0.25, lw=0.8)
        )
        ax.add_collection(
            LineCollection(solid[basis], colors=colours[basis], lw=1.5, label=text)
        )
    for col in range(ncols):  # the years, under the bottom row
        for year, at in ((low, 0.06), (high, 0.96)):
            ax.text(col + at, -0.06, str(year), fontsize=7, ha="center", va="top")
    ax.set(xlim=(0, ncols), ylim=(-0.15, nrows))
    ax.set_axis_off()
    fig.suptitle(
        "Each cluster's share of the titles of each year; panel height = "
        f"{top:.0%} (faint: years with few titles; earlier years, all with few, "
        "in the table)",
        fontsize=11,
    )
    fig.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.3 / fig.get_figheight()),
        ncols=len(bases),
        frameon=False,
    )
    return fig


def class_heatmaps(shares: pd.DataFrame, facets: Sequence[str]) -> Figure:
    """One heatmap per facet: each class's titles over the clusters, in %.

    Cells of at least :data:`ANNOTATE_SHARE` carry their percentage (the HTML
    report has every count on hover).
    """
    heights = [
        max(1.2, 0.3 * shares.loc[shares["facet"] == f, "class"].nunique())
        for f in facets
    ]
    n_clusters = max(1, shares["cluster"].nunique())
    width = max(8.0, 0.42 * n_clusters + 3.5)
    fig, axes = pyplot().subplots(
        len(facets),
        1,
        figsize=(width, sum(heights) + 2.6 * len(facets)),
        height_ratios=heights,
        squeeze=False,
    )
    fig.subplots_adjust(left=2.3 / width, right=0.97, top=0.95, bottom=0.1, hspace=1.1)
    for ax, facet in zip(axes[:, 0], facets, strict=False):
        frame = shares.loc[shares["facet"] == facet]
        if frame.empty:
            _empty(ax, f"No title has a {facet}: nothing to plot.")
            continue
        matrix = frame.pivot_table(
            index="class", columns="cluster", values="share", sort=False
        )
        counts = frame.drop_duplicates("class").set_index("class")["class_titles"]
        names = frame.drop_duplicates("cluster").set_index("cluster")["name"]
        values = matrix.to_numpy()
        ax.imshow(
            values, cmap="Blues", vmin=0, vmax=max(values.max(), 1e-9), aspect="auto"
        )
        for i, j in zip(*np.nonzero(values >= ANNOTATE_SHARE), strict=True):
            ax.text(
                j,
                i,
                f"{values[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if values[i, j] > 0.6 * values.max() else "black",
            )
        ax.set_yticks(
            range(len(matrix.index)),
            [literal(f"{c} ({counts[c]:,})", 28) for c in matrix.index],
            fontsize=8,
        )
        ax.set_xticks(
            range(len(matrix.columns)),
            [short_label(c, names[c], 24) for c in matrix.columns],
            rotation=60,
            ha="right",
            fontsize=7,
        )
        ax.set_title(
            f"Cluster × {facet}: where each {facet}'s titles go (rows sum to 100%)",
            loc="left",
            fontsize=10,
        )
    return fig


def relations(record: Mapping[str, Any]) -> Figure:
    """The clusters' dendrogram (average linkage, cosine) and similarity heatmap."""
    from scipy.cluster.hierarchy import dendrogram

    ids, names = record["clusters"], record["names"]
    labels = [short_label(c, n, 40) for c, n in zip(ids, names, strict=False)]
    height = max(3.5, 0.32 * len(ids) + 1.5)
    fig, (left, right) = pyplot().subplots(
        1,
        2,
        figsize=(16, height),
        width_ratios=[1, 0.9],
    )
    fig.subplots_adjust(left=0.03, right=0.97, wspace=0.62, bottom=0.6 / height + 0.02)
    if len(ids) < 2:
        _empty(left, "One cluster only: no hierarchy to draw.")
        _empty(right, "One cluster only: no similarity to compare.")
        return fig
    dendrogram(
        np.asarray(record["linkage"]),
        labels=labels,
        orientation="left",
        ax=left,
        color_threshold=0,
        above_threshold_color="#555555",
        leaf_font_size=8,
    )
    left.set_title("How the clusters relate (average linkage of centroids)", loc="left")
    left.set_xlabel("cosine distance between centroids")
    order = list(record["order"])
    similarity = np.asarray(record["similarity"])[np.ix_(order, order)]
    # The dendrogram's first leaf is at the bottom: so is the heatmap's first row.
    off = similarity[~np.eye(len(order), dtype=bool)]
    image = right.imshow(
        similarity,
        cmap="viridis",
        vmin=float(off.min()),
        vmax=float(off.max()),  # the diagonal (1) saturates
        origin="lower",
        aspect="auto",
    )
    # The names are the dendrogram's, beside it; the heatmap gives the ids.
    right.set_xticks(range(len(order)), [str(ids[i]) for i in order], fontsize=7)
    right.set_yticks(range(len(order)), [str(ids[i]) for i in order], fontsize=7)
    right.set_title("Centroid cosine similarity (dendrogram order)", loc="left")
    fig.colorbar(image, ax=right, shrink=0.8)
    return fig
