"""Look at the clusters: a t-SNE map (seaborn) and a Bokeh explorer (HTML)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from netflix_dec.features import FeatureMatrix
from netflix_dec.lazy import Figure, pyplot
from netflix_dec.params import VisualizationParams

logger = logging.getLogger(__name__)

SOURCE_NAMES = {
    "dec_embeddings": "DEC embeddings",
    "embeddings": "pretrained embeddings",
    "features": "input features",
}
# t-SNE on wide inputs is slow and noisy; reduce them first, as scikit-learn advises.
_MAX_TSNE_INPUT_DIMS = 50


def project_2d(
    clusters: pd.DataFrame,
    dec_embeddings: np.ndarray,
    embeddings: np.ndarray,
    features: FeatureMatrix,
    params: VisualizationParams,
) -> pd.DataFrame:
    """Place titles on a plane with t-SNE, on a sample for large catalogues.

    Returns:
        ``show_id``, ``x``, ``y`` for every projected title.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.manifold import TSNE

    data = {
        "dec_embeddings": dec_embeddings,
        "embeddings": embeddings,
        "features": features,
    }[params.projection_source]
    if data.shape[0] != len(clusters):
        raise ValueError(
            f"{params.projection_source} has {data.shape[0]} rows but there are "
            f"{len(clusters)} clustered titles; rerun the pipelines that make it."
        )
    rows = np.arange(len(clusters))
    if len(rows) > params.max_points:
        rng = np.random.default_rng(params.seed)
        rows = np.sort(rng.choice(rows, size=params.max_points, replace=False))
        logger.info(
            "Projecting a random sample of %d of %d titles (visualization.max_points).",
            len(rows),
            len(clusters),
        )
    data = data[rows]
    if sparse.issparse(data) or data.shape[1] > _MAX_TSNE_INPUT_DIMS:
        components = min(_MAX_TSNE_INPUT_DIMS, data.shape[1] - 1)
        logger.info(
            "Reducing %d dimensions to %d with TruncatedSVD before t-SNE.",
            data.shape[1],
            components,
        )
        data = TruncatedSVD(components, random_state=params.seed).fit_transform(data)
    perplexity = min(params.perplexity, (len(rows) - 1) / 3)
    logger.info(
        "t-SNE of %d titles from the %s (perplexity %g, %d iterations).",
        len(rows),
        SOURCE_NAMES[params.projection_source],
        perplexity,
        params.max_iter,
    )
    points = TSNE(
        n_components=2,
        perplexity=perplexity,
        max_iter=params.max_iter,
        init="pca",
        learning_rate="auto",
        random_state=params.seed,
    ).fit_transform(np.asarray(data, dtype=np.float32))
    return pd.DataFrame(
        {
            "show_id": clusters["show_id"].to_numpy()[rows],
            "x": points[:, 0],
            "y": points[:, 1],
        }
    )


def _cluster_labels(summary: dict[str, Any], words: int = 3) -> dict[int, str]:
    # The summary's name (distinctive words and genre); older summaries have none.
    return {
        int(item["cluster"]): item.get("name") or ", ".join(item["top_words"][:words])
        for item in summary["clusters"]
    }


def plot_cluster_map(
    projection: pd.DataFrame,
    clusters: pd.DataFrame,
    cluster_summary: dict[str, Any],
    params: VisualizationParams,
) -> Figure:
    """The notebook's seaborn scatter, coloured by cluster, legend beside it."""
    import seaborn as sns

    from netflix_dec import explorer

    points = projection.merge(
        clusters[["show_id", "cluster"]], on="show_id", validate="1:1"
    )
    words = _cluster_labels(cluster_summary)
    n_clusters = len(cluster_summary["clusters"])
    palette = explorer.cluster_palette(n_clusters)
    names = {c: f"{c}: {words.get(c, '')}" for c in range(n_clusters)}
    points["label"] = points["cluster"].map(names)
    in_use = set(points["cluster"])
    order = [names[c] for c in range(n_clusters) if c in in_use]
    colours = {names[c]: palette[c] for c in range(n_clusters)}
    fig, ax = pyplot().subplots(figsize=(14, 10), layout="constrained")
    sns.scatterplot(
        data=points,
        x="x",
        y="y",
        hue="label",
        hue_order=order,
        palette=colours,
        s=max(4.0, min(18.0, 60000 / max(len(points), 1))),
        linewidth=0,
        alpha=0.8,
        ax=ax,
    )
    sampled = len(points) < len(clusters)
    ax.set(
        title=(
            f"Netflix titles in {len(order)} DEC clusters — t-SNE of the "
            f"{SOURCE_NAMES[params.projection_source]}"
            + (
                f" ({len(points):,} of {len(clusters):,} titles)"
                if sampled
                else f" ({len(points):,} titles)"
            )
        ),
        xlabel="t-SNE 1",
        ylabel="t-SNE 2",
    )
    ax.legend(
        title="Cluster: top words",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        title_fontsize=10,
        markerscale=1.5,
        frameon=False,
        ncols=1 if len(order) <= 30 else 2,
    )
    return fig


def build_explorer_html(
    projection: pd.DataFrame,
    clusters: pd.DataFrame,
    titles: pd.DataFrame,
    cluster_summary: dict[str, Any],
    params: VisualizationParams,
) -> str:
    """The interactive explorer as one self-contained HTML page."""
    from netflix_dec import explorer

    points = projection.merge(clusters, on="show_id", validate="1:1").merge(
        titles[["show_id", "director", "release_year", "listed_in", "description"]],
        on="show_id",
        validate="1:1",
    )
    sampled = len(points) < len(clusters)
    title = (
        f"Netflix titles in DEC clusters: t-SNE of the {SOURCE_NAMES[params.projection_source]}"
        + (
            f" ({len(points):,} of {len(clusters):,} titles, a random sample)"
            if sampled
            else ""
        )
    )
    layout = explorer.build_explorer(
        points, _cluster_labels(cluster_summary), title=title
    )
    return explorer.explorer_html(layout, "Netflix DEC cluster explorer")
