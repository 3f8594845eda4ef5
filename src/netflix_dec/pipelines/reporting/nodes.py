"""The catalogue report: a node per view, each a table, a figure or the page.

The tables (shares per year and per class, how clusters relate, similar
titles) are computed once and are the only input of their figures and of the
HTML page, so the PNGs, the CSVs and the page cannot disagree. The code of
each view lives in :mod:`netflix_dec.report` (tables),
:mod:`netflix_dec.similar`, :mod:`netflix_dec.report_figures` (PNGs) and
:mod:`netflix_dec.report_html` (the page).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from netflix_dec import points as points_table
from netflix_dec import report
from netflix_dec.encoders import FeatureMatrix
from netflix_dec.lazy import Figure
from netflix_dec.naming import cluster_names
from netflix_dec.params import (
    DecClusteringParams,
    EncodingParams,
    ReportingParams,
    VisualizationParams,
)
from netflix_dec.pipelines.data_processing.nodes import parse_dates
from netflix_dec.similar import nearest_neighbours

logger = logging.getLogger(__name__)

YEAR_BASES = {"date_added": "year added", "release_year": "release year"}
"""The columns a title's year is read from, and how the report names them."""
CLASS_FACETS = ("country", "rating")


def _check_rows(clusters: pd.DataFrame, titles: pd.DataFrame) -> None:
    if len(clusters) != len(titles) or not np.array_equal(
        clusters["show_id"].astype(str).to_numpy(),
        titles["show_id"].astype(str).to_numpy(),
    ):
        raise ValueError(
            f"clusters ({len(clusters):,} titles) and clean_titles ({len(titles):,}) "
            "do not list the same titles in the same order: they come from "
            "different runs. Rerun `kedro run`."
        )


def title_years(titles: pd.DataFrame, column: str) -> pd.Series:
    """Each title's year by ``column``; missing where unknown or absent."""
    if column not in titles:
        return pd.Series(np.nan, index=titles.index)
    if column == "date_added":
        return parse_dates(titles[column]).dt.year
    return pd.to_numeric(titles[column], errors="coerce")


def cluster_shares_per_year(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    cluster_summary: dict[str, Any],
    params: ReportingParams,
) -> pd.DataFrame:
    """Each cluster's share of the titles of each year added and released."""
    _check_rows(clusters, titles)
    names = cluster_names(cluster_summary)
    tables = [
        report.shares_per_year(
            clusters["cluster"], title_years(titles, column), names, params.few_titles
        ).assign(basis=column)
        for column in YEAR_BASES
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["basis", *table.columns.drop("basis")]]


def cluster_shares_per_class(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    cluster_summary: dict[str, Any],
    params: ReportingParams,
) -> pd.DataFrame:
    """How the titles of each country and each rating spread over the clusters."""
    _check_rows(clusters, titles)
    names = cluster_names(cluster_summary)
    tables = [
        report.shares_per_class(
            clusters["cluster"], titles.get(facet), names, params.top_classes
        ).assign(facet=facet)
        for facet in CLASS_FACETS
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["facet", *table.columns.drop("facet")]]


def relate_clusters(
    clusters: pd.DataFrame,
    dec_embeddings: np.ndarray,
    cluster_summary: dict[str, Any],
) -> dict[str, Any]:
    """The clusters' centroid similarity and hierarchy in the clustering space."""
    if len(dec_embeddings) != len(clusters):
        raise ValueError(
            f"dec_embeddings has {len(dec_embeddings):,} rows but there are "
            f"{len(clusters):,} clustered titles: they come from different runs. "
            "Rerun `kedro run`."
        )
    names = cluster_names(cluster_summary)
    return report.cluster_relations(
        dec_embeddings, clusters["cluster"].to_numpy(), names
    )


def find_similar_titles(
    clusters: pd.DataFrame,
    features: FeatureMatrix,
    points: dict[str, Any],
    cluster_summary: dict[str, Any],
    params: ReportingParams,
) -> pd.DataFrame:
    """Each title's most similar titles by cosine on the features.

    Every title's, up to ``reporting.similar_titles_max_titles`` titles; in a
    larger catalogue only those of the titles the explorer shows and of the
    clusters' example titles (where they are read), since an exact search of
    every title grows with the square of the titles (hours at a million).

    Returns:
        One row per (title, rank): ``show_id, title, cluster, rank,
        similar_show_id, similar_title, similar_cluster, similarity``.
    """
    if features.shape[0] != len(clusters):
        raise ValueError(
            f"features has {features.shape[0]:,} rows but there are "
            f"{len(clusters):,} clustered titles: they come from different runs. "
            "Rerun `kedro run`."
        )
    queries = _similar_queries(clusters, points, cluster_summary, params)
    indices, similarities = nearest_neighbours(
        features, params.similar_titles, queries=queries
    )
    k = indices.shape[1]
    rows = np.repeat(np.arange(len(clusters)) if queries is None else queries, k)
    others = indices.ravel()
    column = {
        name: clusters[name].to_numpy() for name in ("show_id", "title", "cluster")
    }
    return pd.DataFrame(
        {
            **{name: values[rows] for name, values in column.items()},
            "rank": np.tile(np.arange(1, k + 1), len(indices)),
            **{f"similar_{name}": values[others] for name, values in column.items()},
            "similarity": similarities.ravel().round(4),
        }
    )


def _similar_queries(
    clusters: pd.DataFrame,
    points: dict[str, Any],
    cluster_summary: dict[str, Any],
    params: ReportingParams,
) -> np.ndarray | None:
    """The rows whose similar titles are listed: None for all of them."""
    if len(clusters) <= params.similar_titles_max_titles:
        return None
    shown = np.asarray(points["columns"]["row"], dtype=np.int64)
    shown = shown[(shown >= 0) & (shown < len(clusters))]
    examples = {t for c in cluster_summary["clusters"] for t in c.get("examples") or []}
    named = np.flatnonzero(clusters["title"].isin(examples).to_numpy())
    queries = np.union1d(shown, named)
    logger.info(
        "Similar titles of %d titles (the %d the explorer shows and the clusters' "
        "examples), not of all %d: above reporting.similar_titles_max_titles=%d "
        "an exact search of every title grows with the square of the titles.",
        len(queries),
        len(shown),
        len(clusters),
        params.similar_titles_max_titles,
    )
    return queries


def plot_shares_per_year(shares: pd.DataFrame) -> Figure:
    """Small multiples: each cluster's share of the titles of each year."""
    from netflix_dec import report_figures

    return report_figures.shares_over_time(shares, YEAR_BASES)


def plot_shares_per_class(shares: pd.DataFrame) -> Figure:
    """Heatmaps of each country's and rating's titles over the clusters."""
    from netflix_dec import report_figures

    return report_figures.class_heatmaps(shares, CLASS_FACETS)


def plot_cluster_relations(relations: dict[str, Any]) -> Figure:
    """The clusters' dendrogram beside their similarity heatmap."""
    from netflix_dec import report_figures

    return report_figures.relations(relations)


def build_catalogue_report(
    titles: pd.DataFrame,
    cluster_summary: dict[str, Any],
    shares_per_year: pd.DataFrame,
    shares_per_class: pd.DataFrame,
    relations: dict[str, Any],
    similar_titles: pd.DataFrame,
    points: dict[str, Any],
    params: ReportingParams,
    encoding: EncodingParams,
    dec_clustering: DecClusteringParams,
    visualization: VisualizationParams,
    source: Mapping[str, Any] | None = None,
) -> str:
    """The whole report as one self-contained HTML page.

    ``source`` is data_processing's record of the file ``raw_titles`` read
    (``raw_titles_source``); without one, the report says so.
    """
    from netflix_dec import report_html

    frame, meta = points_table.from_record(points)
    coverage = {
        column: report.coverage(titles.get(column), len(titles))
        for column in (*YEAR_BASES, *CLASS_FACETS, "listed_in")
    }
    settings = {
        "input": (source or {}).get("path")
        or "not recorded (raw_titles is read by a dataset that does not name its "
        "file; netflix_dec.catalogue.CatalogueDataset does)",
        "titles": len(titles),
        "encoding": encoding.model_dump(),
        "dec_clustering": dec_clustering.model_dump(),
        "visualization": visualization.model_dump(),
        "reporting": params.model_dump(),
    }
    return report_html.catalogue_report(
        settings=settings,
        summary=cluster_summary,
        coverage=coverage,
        shares_per_year=shares_per_year,
        shares_per_class=shares_per_class,
        relations=relations,
        similar_titles=similar_titles,
        points=frame,
        map_caption=points_table.caption(
            meta, int(frame[["x", "y"]].notna().all(axis=1).sum())
        ),
        year_bases=YEAR_BASES,
        params=params,
    )
