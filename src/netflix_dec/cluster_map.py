"""The cluster map: the notebook's seaborn scatter of the points table.

A plain library module (no Kedro): given the points table
(:mod:`netflix_dec.points`), draw each title at its t-SNE position coloured by
cluster, the legend beside the map and each cluster's short name where its
titles lie. The explorer (:mod:`netflix_dec.explorer`) draws the same table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from netflix_dec import points as points_table
from netflix_dec.lazy import Figure, pyplot


def draw_cluster_map(frame: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """The map of the points table's rows, or a note saying why there is none."""
    import seaborn as sns

    from netflix_dec.palette import cluster_palette

    fig, ax = pyplot().subplots(figsize=(14, 10), layout="constrained")
    placed = frame.dropna(subset=["x", "y"])
    if placed.empty:
        ax.text(
            0.5,
            0.5,
            f"No t-SNE map: {meta['skipped']}.",
            ha="center",
            va="center",
            wrap=True,
            usetex=False,
            parse_math=False,
        )
        ax.set_axis_off()
        return fig
    words = {int(k): v for k, v in meta["words"].items()}
    labels = {c: points_table.label(c, words.get(c)) for c in frame["cluster"]}
    palette = cluster_palette(max([meta["n_clusters"], *(frame["cluster"] + 1)]))
    names = placed["cluster"].map(lambda c: labels.get(c, str(c)))
    in_use = sorted(placed["cluster"].unique())
    order = [labels.get(c, str(c)) for c in in_use]
    colours = {labels.get(c, str(c)): palette[c] for c in in_use}
    sns.scatterplot(
        x=placed["x"],
        y=placed["y"],
        hue=names,
        hue_order=order,
        palette=colours,
        s=max(4.0, min(18.0, 60000 / max(len(placed), 1))),
        linewidth=0,
        alpha=0.8,
        ax=ax,
    )
    _write_names(ax, placed, words)
    ax.set(
        title=points_table.caption(meta, len(placed)),
        xlabel="t-SNE 1",
        ylabel="t-SNE 2",
    )
    ax.title.set_parse_math(False)
    legend = ax.legend(
        title="Cluster · top words",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        title_fontsize=10,
        markerscale=1.5,
        frameon=False,
        ncols=1 if len(order) <= 30 else 2,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    return fig


def _write_names(ax: Any, placed: pd.DataFrame, words: dict[int, str]) -> None:
    """Each cluster's short name where its titles lie, on a white halo."""
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=3, foreground="white", alpha=0.85)]
    for cluster, (x, y) in points_table.label_positions(placed).items():
        ax.text(
            x,
            y,
            points_table.short_name(cluster, words.get(cluster)),
            ha="center",
            va="center",
            fontsize=8.5,
            fontweight="bold",
            color="#222222",
            path_effects=halo,
            parse_math=False,
        )
