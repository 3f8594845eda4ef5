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
from netflix_dec.evaluation import sample_rows
from netflix_dec.lazy import Figure
from netflix_dec.naming import cluster_names
from netflix_dec.params import VisualizationParams
from netflix_dec.storage.arrays import read_rows
from netflix_dec.storage.caches import MapCache

logger = logging.getLogger(__name__)

SOURCE_NAMES = {
    "dec_embeddings": "DEC embeddings",
    "embeddings": "pretrained embeddings",
    "features": "input features",
}


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
    rows = sample_rows(n, params.max_points, params.seed)
    if len(rows) < n:
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
    earlier run is reused instead of refitted (see
    :func:`netflix_dec.projection.map_of`).

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
    perplexity = projection.perplexity_for(len(rows), params.perplexity)
    positions, skipped = projection.map_of(
        chosen,
        perplexity,
        params.max_iter,
        params.seed,
        map_cache,
        SOURCE_NAMES[params.projection_source],
    )
    if positions is None:
        logger.warning("No t-SNE map: %s. The pictures say so instead.", skipped)
    frame = points_table.training_rows(clusters, titles, rows, positions)
    meta = _map_meta(clusters, cluster_summary, len(rows), params, perplexity, skipped)
    return points_table.to_record(frame, meta)


def _map_meta(
    clusters: pd.DataFrame,
    cluster_summary: dict[str, Any],
    n_rows: int,
    params: VisualizationParams,
    perplexity: float,
    skipped: str | None,
) -> dict[str, Any]:
    """What the points table records once: the titles, clusters and map settings."""
    return {
        "titles": len(clusters),
        "sampled": bool(n_rows < len(clusters)),
        "n_clusters": len(cluster_summary["clusters"]),
        "clusters_in_use": int(clusters["cluster"].nunique()),
        "words": {str(k): v for k, v in cluster_names(cluster_summary).items()},
        "source": params.projection_source,
        "source_name": SOURCE_NAMES[params.projection_source],
        "method": projection.METHOD,
        "perplexity": perplexity,
        "max_iter": params.max_iter,
        "seed": params.seed,
        "skipped": skipped,
    }


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
    reason = _why_not_placed(meta, train_source)
    if reason is None:
        placed = projection.place_on_map(
            read_rows(train_source, frame["row"].to_numpy()),
            frame[["x", "y"]].to_numpy(),
            new_source,
            meta["perplexity"],
            meta["seed"],
        )
        x, y = placed[:, 0], placed[:, 1]
        logger.info("Placed %d new titles on the training map.", len(placed))
    else:
        logger.warning("New titles not placed on the map: %s.", reason)
    added = points_table.new_rows(assigned_titles, new_titles, x, y)
    meta = meta | {"new_titles": len(added), "new_skipped": reason}
    return points_table.to_record(pd.concat([frame, added], ignore_index=True), meta)


def _why_not_placed(meta: dict[str, Any], train_source: Any) -> str | None:
    """Why new titles cannot be placed on this map, None if they can.

    Raises:
        MixedRunsError: The training rows are not the ones the map was made of.
    """
    if meta["skipped"] is not None:
        return meta["skipped"]
    if train_source is None:
        return (
            f"the map was made of the {meta['source_name']}, which the assign "
            "pipeline does not compute; use visualization.projection_source "
            "dec_embeddings or features"
        )
    if train_source.shape[0] != meta["titles"]:
        raise MixedRunsError(
            f"{meta['source']} has {train_source.shape[0]:,} rows but the map was "
            f"made of {meta['titles']:,} titles: they come from different runs. "
            "Rerun `kedro run`."
        )
    return None


def plot_cluster_map(points: dict[str, Any]) -> Figure:
    """The notebook's seaborn scatter, coloured by cluster, legend beside it."""
    from netflix_dec.cluster_map import draw_cluster_map

    return draw_cluster_map(*points_table.from_record(points))


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
