"""Look at the clusters: one points table, drawn as a seaborn map and a Bokeh explorer.

The points table (positions, clusters, titles, labels) is built once and is
the only input of both pictures, so they cannot disagree. Its inputs are
checked to come from one run before anything is projected.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from netflix_dec import points as points_table
from netflix_dec import projection
from netflix_dec.encoders import FeatureMatrix
from netflix_dec.lazy import Figure, pyplot
from netflix_dec.params import VisualizationParams
from netflix_dec.storage.arrays import read_rows
from netflix_dec.storage.caches import MapCache

logger = logging.getLogger(__name__)

SOURCE_NAMES = {
    "dec_embeddings": "DEC embeddings",
    "embeddings": "pretrained embeddings",
    "features": "input features",
}
_HOVER_COLUMNS = ("director", "release_year", "listed_in", "description")


class MixedRunsError(ValueError):
    """The inputs of a picture come from different runs."""


def check_same_run(
    clusters: pd.DataFrame,
    titles: pd.DataFrame,
    cluster_summary: dict[str, Any],
    source_rows: int,
    source: str,
) -> None:
    """Refuse inputs that do not describe the same titles in the same order.

    A failed or partial run can leave, say, a new ``clusters.csv`` next to an
    old ``clean_titles.csv``; drawing them would silently show a fraction of
    the titles with the wrong text.

    Raises:
        MixedRunsError: Naming the two inputs, their row counts and how many
            ``show_id`` differ.
    """
    rerun = "Rerun the pipelines that make them (`kedro run` makes all)."
    ids, clustered = titles["show_id"].astype(str), clusters["show_id"].astype(str)
    if len(ids) != len(clustered) or (ids.to_numpy() != clustered.to_numpy()).any():
        differ = len(set(ids).symmetric_difference(clustered))
        raise MixedRunsError(
            f"clusters ({len(clustered):,} titles) and clean_titles ({len(ids):,} "
            f"titles) come from different runs: {differ:,} show_id are in one only"
            f"{' and the order differs' if not differ else ''}. {rerun}"
        )
    if source_rows != len(clusters):
        raise MixedRunsError(
            f"{source} has {source_rows:,} rows but there are {len(clusters):,} "
            f"clustered titles: they come from different runs. {rerun}"
        )
    sizes = sum(item.get("size", 0) for item in cluster_summary["clusters"])
    if sizes != len(clusters):
        raise MixedRunsError(
            f"cluster_summary counts {sizes:,} titles but clusters has "
            f"{len(clusters):,}: they come from different runs. {rerun}"
        )


def _sample(n: int, params: VisualizationParams) -> np.ndarray:
    rows = np.arange(n)
    if n > params.max_points:
        rng = np.random.default_rng(params.seed)
        rows = np.sort(rng.choice(rows, size=params.max_points, replace=False))
        logger.info(
            "Projecting a random sample of %d of %d titles (visualization.max_points).",
            len(rows),
            n,
        )
    return rows


def build_points(
    clusters: pd.DataFrame,
    titles: pd.DataFrame,
    cluster_summary: dict[str, Any],
    dec_embeddings: np.ndarray,
    embeddings: np.ndarray,
    features: FeatureMatrix,
    params: VisualizationParams,
    map_cache: MapCache | None = None,
) -> dict[str, Any]:
    """Project the titles (a sample for large catalogues) and join what is drawn.

    When t-SNE cannot be run (too few titles, identical inputs), the table
    keeps every title without a position and says why; the pictures show that.

    With ``map_cache``, a map of the very same rows and settings made by an
    earlier run is reused instead of refitted (t-SNE is the slowest step of a
    re-run, and a new ``n_clusters`` often leaves what it maps unchanged);
    any other map is fitted and stored for the next run.

    Returns:
        The points table as a JSON-ready record (see :mod:`netflix_dec.points`).
    """
    data = {
        "dec_embeddings": dec_embeddings,
        "embeddings": embeddings,
        "features": features,
    }[params.projection_source]
    check_same_run(
        clusters, titles, cluster_summary, data.shape[0], params.projection_source
    )
    rows = _sample(len(clusters), params)
    chosen = read_rows(data, rows)
    skipped = projection.why_not_projectable(chosen)
    x = y = np.full(len(rows), np.nan)
    perplexity = projection.perplexity_for(len(rows), params.perplexity)
    positions = None
    if skipped is None and map_cache is not None:
        key = projection.map_key(chosen, perplexity, params.max_iter, params.seed)
        positions = map_cache.lookup(key, rows=len(rows))
        if positions is not None:
            logger.info(
                "Reused the t-SNE map of %d titles from the %s stored in %s by an "
                "earlier run: same input and settings (key %s).",
                len(rows),
                SOURCE_NAMES[params.projection_source],
                map_cache.path,
                key[:12],
            )
    if skipped is None and positions is None:
        reduced, _ = projection.reduce(chosen, seed=params.seed)
        skipped = projection.why_not_projectable(reduced)
    if skipped is None and positions is None:
        logger.info(
            "t-SNE of %d titles from the %s (perplexity %g, %d iterations).",
            len(rows),
            SOURCE_NAMES[params.projection_source],
            perplexity,
            params.max_iter,
        )
        positions = projection.fit(reduced, perplexity, params.max_iter, params.seed)
        if map_cache is not None:
            map_cache.store(key, positions)
    if positions is not None:
        x, y = positions[:, 0], positions[:, 1]
    else:
        logger.warning("No t-SNE map: %s. The pictures say so instead.", skipped)
    frame = pd.DataFrame(
        {
            "row": rows,
            "show_id": clusters["show_id"].to_numpy()[rows],
            "x": x,
            "y": y,
            "cluster": clusters["cluster"].to_numpy()[rows].astype(int),
            "confidence": clusters["confidence"].to_numpy()[rows].astype(float),
            "title": titles["title"].to_numpy()[rows],
            **{c: titles[c].to_numpy()[rows] for c in _HOVER_COLUMNS if c in titles},
            "new": False,
        }
    )
    for column in _HOVER_COLUMNS:
        if column not in frame:
            frame[column] = None
    meta = {
        "titles": len(clusters),
        "sampled": bool(len(rows) < len(clusters)),
        "n_clusters": len(cluster_summary["clusters"]),
        "clusters_in_use": int(clusters["cluster"].nunique()),
        "words": {
            str(k): v
            for k, v in points_table.words_from_summary(cluster_summary).items()
        },
        "source": params.projection_source,
        "source_name": SOURCE_NAMES[params.projection_source],
        "method": projection.METHOD,
        "perplexity": perplexity,
        "max_iter": params.max_iter,
        "seed": params.seed,
        "skipped": skipped,
    }
    return points_table.to_record(frame, meta)


def place_new_titles(
    points: dict[str, Any],
    assigned_titles: pd.DataFrame,
    new_titles: pd.DataFrame,
    new_features: FeatureMatrix,
    new_dec_embeddings: np.ndarray,
    dec_embeddings: np.ndarray,
    features: FeatureMatrix,
) -> dict[str, Any]:
    """Add the new titles to the training map, which stays as it was.

    The training titles' map is not refitted: openTSNE places each new title
    against the training titles' fixed positions (see
    :func:`netflix_dec.projection.place_new`), from the same kind of input the
    map was made of.

    Returns:
        The points table with the new titles appended (``new`` true).
    """
    frame, meta = points_table.from_record(points)
    train_source = {"dec_embeddings": dec_embeddings, "features": features}.get(
        meta["source"]
    )
    new_source = {"dec_embeddings": new_dec_embeddings, "features": new_features}.get(
        meta["source"]
    )
    x = y = np.full(len(assigned_titles), np.nan)
    reason = meta["skipped"]
    if reason is None and train_source is None:
        reason = (
            f"the map was made of the {meta['source_name']}, which the assign "
            "pipeline does not compute; use visualization.projection_source "
            "dec_embeddings or features"
        )
    if reason is None and train_source.shape[0] != meta["titles"]:
        raise MixedRunsError(
            f"{meta['source']} has {train_source.shape[0]:,} rows but the map was "
            f"made of {meta['titles']:,} titles: they come from different runs. "
            "Rerun `kedro run`."
        )
    if reason is None:
        train, new = projection.reduce(
            read_rows(train_source, frame["row"].to_numpy()),
            new_source,
            seed=meta["seed"],
        )
        placed = projection.place_new(
            train,
            frame[["x", "y"]].to_numpy(),
            new,
            meta["perplexity"],
            meta["seed"],
        )
        x, y = placed[:, 0], placed[:, 1]
        logger.info("Placed %d new titles on the training map.", len(placed))
    else:
        logger.warning("New titles not placed on the map: %s.", reason)
    added = pd.DataFrame(
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
                for c in _HOVER_COLUMNS
            },
            "new": True,
        }
    )
    meta = meta | {"new_titles": len(added), "new_skipped": reason}
    return points_table.to_record(pd.concat([frame, added], ignore_index=True), meta)


def plot_cluster_map(points: dict[str, Any]) -> Figure:
    """The notebook's seaborn scatter, coloured by cluster, legend beside it."""
    import seaborn as sns

    from netflix_dec.palette import cluster_palette

    frame, meta = points_table.from_record(points)
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


def similar_for_points(placed: pd.DataFrame, similar: pd.DataFrame) -> pd.DataFrame:
    """The similar titles of the drawn training titles, by row of ``placed``.

    ``similar_point`` is the drawn row of the similar title, -1 when it is
    not drawn (a sampled map).
    """
    rows = placed.reset_index(drop=True)
    training = rows.loc[~rows["new"].astype(bool)]
    point_of = pd.Series(training.index, index=training["show_id"].astype(str))
    point_of = point_of[~point_of.index.duplicated()]
    table = similar.loc[similar["show_id"].astype(str).isin(point_of.index)]
    return pd.DataFrame(
        {
            "point": point_of.loc[table["show_id"].astype(str)].to_numpy(),
            "rank": table["rank"].to_numpy(),
            "title": table["similar_title"].astype(str).to_numpy(),
            "similarity": table["similarity"].to_numpy(dtype=float),
            "similar_point": point_of.reindex(table["similar_show_id"].astype(str))
            .fillna(-1)
            .astype(int)
            .to_numpy(),
        }
    )


def build_explorer_html(
    points: dict[str, Any], similar_titles: pd.DataFrame | None = None
) -> str:
    """The interactive explorer as one self-contained HTML page.

    With ``similar_titles``, clicking a point lists its similar titles.
    """
    from netflix_dec import explorer

    frame, meta = points_table.from_record(points)
    n_new = int(frame["new"].sum())
    placed = frame.dropna(subset=["x", "y"])
    title = points_table.caption(meta, len(placed), int(placed["new"].sum()))
    if placed.empty:
        return explorer.message_html(
            f"No t-SNE map: {meta['skipped']}.", "Netflix DEC cluster explorer"
        )
    if len(placed) < len(frame):
        skipped = meta.get("new_skipped") or meta["skipped"]
        title += (
            f" ({len(frame) - len(placed)} of {n_new} new titles not placed: {skipped})"
        )
    layout = explorer.build_explorer(
        placed,
        {int(k): v for k, v in meta["words"].items()},
        title=title,
        similar=None
        if similar_titles is None
        else similar_for_points(placed, similar_titles),
    )
    return explorer.explorer_html(layout, "Netflix DEC cluster explorer")
