"""What the catalogue is made of: the tables of the catalogue report.

Each function takes plain tables (the clustered titles, their years or
classes, the clusters' names) and returns one long table a person can read
as it is, that the figures draw and the HTML report shows. No Kedro and no
plotting library here; the cluster ids are whatever the clustering wrote
(never assumed to be 0..k-1).

BERTopic's ``topics_over_time``, ``topics_per_class`` and
``hierarchical_topics`` answer the same questions for topics; these answer
them for DEC clusters, with the counts kept beside every share so that a
share of a handful of titles reads as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from netflix_dec.catalogue import NO_DIRECTOR, UNKNOWN

MISSING_TEXT = frozenset({"", UNKNOWN.lower(), NO_DIRECTOR.lower(), "nan", "none"})
"""Cell values that mean "not known": the cleaning's fillers and blanks."""

OTHER = "Other"
"""The class of every value outside the most common ones."""

YEAR_COLUMNS = ("titles", "year_titles", "share", "few")
CLASS_COLUMNS = ("titles", "class_titles", "share")


def present(values: pd.Series | None) -> pd.Series:
    """Whether each cell holds a value (not blank, not the cleaning's filler).

    A column absent from the catalogue is passed as ``None`` and reads as
    empty everywhere, like a column whose every cell is missing.
    """
    if values is None:
        return pd.Series(dtype=bool)
    text = values.astype("string").str.strip().str.lower()
    return text.notna() & ~text.isin(MISSING_TEXT).fillna(False).astype(bool)


def coverage(values: pd.Series | None, n_titles: int) -> dict[str, Any]:
    """How many titles have a value in a column, for the panels' notes."""
    known = int(present(values).sum()) if values is not None else 0
    return {
        "known": known,
        "missing": n_titles - known,
        "titles": n_titles,
        "share_known": known / n_titles if n_titles else 0.0,
        "absent": values is None,
    }


def shares_per_year(
    clusters: pd.Series, years: pd.Series, names: Mapping[int, str], few_titles: int
) -> pd.DataFrame:
    """Each cluster's share of the titles of each year.

    Every (year, cluster) pair appears, with zero titles where the cluster has
    none that year, so the shares of a year sum to 1. Years with fewer than
    ``few_titles`` titles are kept and flagged ``few``: a share of three
    titles is not a trend.

    Args:
        clusters: Each title's cluster id.
        years: Each title's year (missing where unknown; those titles are left
            out, the panel says how many).
        names: Cluster id → name, for every cluster of the summary.
        few_titles: Years with fewer titles than this are flagged.

    Returns:
        Columns ``year, cluster, name, titles, year_titles, share, few``,
        sorted by year then cluster.
    """
    known = pd.DataFrame(
        {"year": pd.to_numeric(years, errors="coerce"), "cluster": clusters.values}
    ).dropna(subset=["year"])
    ids = sorted({*map(int, names), *known["cluster"].astype(int)})
    counts = (
        pd.crosstab(known["year"].astype(int), known["cluster"].astype(int))
        .reindex(columns=ids, fill_value=0)
        .stack()
        .rename("titles")
    )
    table = counts.rename_axis(["year", "cluster"]).reset_index()
    table["year_titles"] = table.groupby("year")["titles"].transform("sum")
    table["share"] = table["titles"] / table["year_titles"]
    table["few"] = table["year_titles"] < few_titles
    table.insert(2, "name", table["cluster"].map(lambda c: names.get(c, str(c))))
    return table.astype({"year": int, "cluster": int, "titles": int})


def split_classes(values: pd.Series) -> pd.Series:
    """One row per (title, class) for comma-separated cells such as countries.

    The title's position is kept as the index; cells without a value and the
    cleaning's fillers are dropped.
    """
    items = values.astype("string").str.split(",").explode().str.strip()
    return items.loc[present(items)].astype(str)


def shares_per_class(
    clusters: pd.Series,
    values: pd.Series | None,
    names: Mapping[int, str],
    top: int,
) -> pd.DataFrame:
    """How each class's titles (a country, a rating) spread over the clusters.

    A title listing several countries counts once for each. The ``top``
    classes with most titles are kept, the others summed into
    :data:`OTHER`; titles without a value are left out (the panel says how
    many). Within a class the shares sum to 1.

    Returns:
        Columns ``class, cluster, name, titles, class_titles, share``, the
        classes in order of their number of titles, :data:`OTHER` last.
    """
    empty = pd.DataFrame(columns=["class", "cluster", "name", *CLASS_COLUMNS])
    if values is None:
        return empty
    items = split_classes(values.reset_index(drop=True))
    if items.empty:
        return empty
    ranked = items.value_counts()
    kept = list(ranked.index[:top])
    grouped = items.where(items.isin(kept), OTHER)
    order = kept + ([OTHER] if len(ranked) > top else [])
    ids = sorted({*map(int, names), *clusters.astype(int)})
    member = clusters.reset_index(drop=True).astype(int).to_numpy()[grouped.index]
    counts = (
        pd.crosstab(pd.Categorical(grouped.to_numpy(), categories=order), member)
        .reindex(index=order, columns=ids, fill_value=0)
        .stack()
        .rename("titles")
    )
    table = counts.rename_axis(["class", "cluster"]).reset_index()
    table["class_titles"] = table.groupby("class", sort=False)["titles"].transform(
        "sum"
    )
    table["share"] = table["titles"] / table["class_titles"]
    table.insert(2, "name", table["cluster"].map(lambda c: names.get(c, str(c))))
    return table.astype({"class": str, "cluster": int, "titles": int})


def centroids(
    embedding: np.ndarray, clusters: np.ndarray, chunk_rows: int = 65_536
) -> tuple[np.ndarray, np.ndarray]:
    """Each cluster's mean point in the clustering space, read in chunks.

    Chunks keep a memory-mapped embedding of a million titles off the
    resident set: only ``chunk_rows`` rows are read at a time.

    Returns:
        The sorted cluster ids in use and their centroids (one row each).
    """
    ids, inverse = np.unique(np.asarray(clusters, dtype=np.int64), return_inverse=True)
    sums = np.zeros((len(ids), embedding.shape[1]), dtype=np.float64)
    for start in range(0, embedding.shape[0], chunk_rows):
        rows = np.asarray(embedding[start : start + chunk_rows], dtype=np.float64)
        np.add.at(sums, inverse[start : start + chunk_rows], rows)
    return ids, sums / np.bincount(inverse, minlength=len(ids))[:, None]


def cluster_relations(
    embedding: np.ndarray, clusters: np.ndarray, names: Mapping[int, str]
) -> dict[str, Any]:
    """How the clusters relate: centroid similarity and their hierarchy.

    The hierarchy is scipy's average linkage of the centroids under cosine
    distance (as BERTopic's ``hierarchical_topics`` links topic vectors);
    ``order`` lists the clusters as the dendrogram's leaves, so the
    similarity heatmap drawn in that order shows the same families.

    Returns:
        A JSON-ready record: ``clusters``, ``names``, ``sizes``, the cosine
        ``similarity`` matrix, scipy's ``linkage`` matrix (empty below two
        clusters) and the leaf ``order``.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering

    ids, centres = centroids(embedding, clusters)
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    unit = centres / np.where(norms > 0, norms, 1.0)
    similarity = np.clip(unit @ unit.T, -1.0, 1.0)
    links = np.empty((0, 4))
    order = list(range(len(ids)))
    if len(ids) >= 2:
        distance = np.clip(1.0 - similarity[np.triu_indices(len(ids), 1)], 0.0, 2.0)
        links = optimal_leaf_ordering(linkage(distance, method="average"), distance)
        order = leaves_list(links).tolist()
    sizes = np.bincount(np.searchsorted(ids, clusters), minlength=len(ids))
    return {
        "clusters": ids.tolist(),
        "names": [names.get(int(c), str(c)) for c in ids],
        "sizes": sizes.tolist(),
        "similarity": np.round(similarity, 4).tolist(),
        "linkage": links.tolist(),
        "order": order,
    }


def growth(table: pd.DataFrame, since: int) -> pd.DataFrame:
    """Each cluster's share of the titles up to ``since`` and after it.

    Returns:
        Columns ``cluster, name, before, after, change`` (shares, ``change``
        in share points), the cluster that grew most first; empty if either
        side has no titles.
    """
    side = np.where(table["year"] > since, "after", "before")
    counts = table.pivot_table(
        index=["cluster", "name"], columns=side, values="titles", aggfunc="sum"
    )
    if not {"before", "after"} <= set(counts.columns):
        return pd.DataFrame(columns=["cluster", "name", "before", "after", "change"])
    shares = counts / counts.sum()
    shares["change"] = shares["after"] - shares["before"]
    frame = shares.reset_index()[["cluster", "name", "before", "after", "change"]]
    return frame.sort_values("change", ascending=False, ignore_index=True)
