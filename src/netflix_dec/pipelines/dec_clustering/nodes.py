"""Cluster the embeddings with DEC/IDEC and describe and score the clusters."""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from netflix_dec.evaluation import agreement, split_genres, weak_genre_labels
from netflix_dec.lazy import KerasModel
from netflix_dec.params import DecClusteringParams

logger = logging.getLogger(__name__)


def _encoder_of(autoencoder: KerasModel) -> KerasModel:
    """The encoder inside a (reloaded) autoencoder, sharing its weights."""
    import keras

    return keras.Model(
        autoencoder.input, autoencoder.get_layer("embedding").output, name="encoder"
    )


def train_dec(
    autoencoder: KerasModel,
    features: np.ndarray | sparse.csr_matrix,
    params: DecClusteringParams,
) -> tuple[KerasModel, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Initialise centroids with KMeans, then train DEC or IDEC.

    Returns:
        The DEC model (features → soft assignments), the soft assignments,
        the final embeddings, the KMeans start labels and a training record
        (iterations, stop reason, one entry per target update).
    """
    from netflix_dec import dec

    encoder = _encoder_of(autoencoder)
    idec = params.variant == "idec"
    logger.info(
        "Training %s: %d clusters, batch %d, at most %d iterations, target update "
        "every %d, tol %g%s.",
        params.variant.upper(),
        params.n_clusters,
        params.batch_size,
        params.maxiter,
        params.update_interval,
        params.tol,
        f", gamma {params.gamma}" if idec else "",
    )

    def log_update(record: dict[str, float]) -> None:
        logger.info(
            "iteration %d: loss %.5f, %.2f%% of titles changed cluster, %d clusters in use",
            record["iteration"],
            record["loss"],
            100 * record["changed"],
            record["clusters"],
        )

    result = dec.fit_dec(
        encoder,
        features,
        params.n_clusters,
        autoencoder=autoencoder if idec else None,
        gamma=params.gamma,
        alpha=params.alpha,
        batch_size=params.batch_size,
        maxiter=params.maxiter,
        update_interval=params.update_interval,
        tol=params.tol,
        learning_rate=params.learning_rate,
        momentum=params.momentum,
        kmeans_n_init=params.kmeans_n_init,
        seed=params.seed,
        # A live progress bar in a terminal; in files and CI logs the log lines say it.
        verbose=sys.stdout.isatty(),
        on_update=log_update,
    )
    reason = (
        f"fewer than tol={params.tol:g} of titles changed cluster"
        if result.stop_reason == "tol"
        else f"reached maxiter={params.maxiter}"
    )
    logger.info("DEC stopped after %d iterations: %s.", result.iterations, reason)
    record = {
        "variant": params.variant,
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
        "stop_detail": reason,
        "seconds": round(result.seconds, 2),
        "updates": result.updates,
    }
    return (
        result.model,
        result.q.astype(np.float32),
        result.embedding.astype(np.float32),
        result.kmeans_labels.astype(np.int32),
        record,
    )


def assign_clusters(titles: pd.DataFrame, soft_assignments: np.ndarray) -> pd.DataFrame:
    """One row per title: its cluster and how confident the assignment is."""
    if len(titles) != len(soft_assignments):
        raise ValueError(
            f"{len(titles)} titles but {len(soft_assignments)} soft assignments: the "
            "features were made from another table; rerun the encoding pipeline."
        )
    return pd.DataFrame(
        {
            "show_id": titles["show_id"].to_numpy(),
            "title": titles["title"].to_numpy(),
            "cluster": soft_assignments.argmax(axis=1).astype(int),
            "confidence": soft_assignments.max(axis=1).round(4),
        }
    )


def distinctive_words(
    descriptions: pd.Series, clusters: np.ndarray, n_clusters: int, top_words: int
) -> dict[int, list[str]]:
    """Each cluster's most distinctive words by class-based TF-IDF.

    A word ranks high when it is frequent in the cluster and rare across
    clusters; English stop words are left out, so the words read as topics.
    """
    vectorizer = CountVectorizer(
        stop_words="english", min_df=2, token_pattern=r"(?u)\b[^\W\d_]{3,}\b"
    )
    try:
        counts = vectorizer.fit_transform(descriptions.fillna(""))
    except ValueError:  # no word survives (tiny or empty input)
        return {cluster: [] for cluster in range(n_clusters)}
    membership = sparse.csr_matrix(
        (np.ones(len(clusters)), (clusters, np.arange(len(clusters)))),
        shape=(n_clusters, len(clusters)),
    )
    per_cluster = np.asarray((membership @ counts).todense(), dtype=float)
    frequency = per_cluster / np.maximum(per_cluster.sum(axis=1, keepdims=True), 1.0)
    average_words = per_cluster.sum() / max(
        np.count_nonzero(per_cluster.sum(axis=1)), 1
    )
    idf = np.log1p(average_words / np.maximum(per_cluster.sum(axis=0), 1.0))
    scores = frequency * idf
    vocabulary = vectorizer.get_feature_names_out()
    return {
        cluster: [
            str(vocabulary[j])
            for j in np.argsort(-scores[cluster])[:top_words]
            if scores[cluster, j] > 0
        ]
        for cluster in range(n_clusters)
    }


def summarize_clusters(
    titles: pd.DataFrame, clusters: pd.DataFrame, params: DecClusteringParams
) -> dict[str, Any]:
    """Per cluster: size, distinctive words, common genres, example titles."""
    labels = clusters["cluster"].to_numpy()
    words = distinctive_words(
        titles["description"], labels, params.n_clusters, params.top_words
    )
    genres = split_genres(titles["listed_in"])
    summary = []
    for cluster in range(params.n_clusters):
        members = np.flatnonzero(labels == cluster)
        best = clusters.iloc[members].sort_values("confidence", ascending=False)
        genre_counts = genres.iloc[members].explode().value_counts().head(5)
        summary.append(
            {
                "cluster": cluster,
                "size": len(members),
                "top_words": words[cluster],
                "top_genres": {str(k): int(v) for k, v in genre_counts.items()},
                "examples": best["title"].head(params.examples).tolist(),
            }
        )
    return {"clusters": summary}


def evaluate_clustering(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    kmeans_labels: np.ndarray,
    embeddings: np.ndarray,
    dec_embeddings: np.ndarray,
    training: dict[str, Any],
    params: DecClusteringParams,
) -> dict[str, Any]:
    """Agreement with weak genre labels and compactness, start against final.

    NMI and ARI compare the clusters with each title's most specific genre
    (see :mod:`netflix_dec.evaluation`); the silhouette is measured in the
    embedding each clustering was made in, on a sample for large catalogues.
    """
    truth = weak_genre_labels(titles["listed_in"]).to_numpy()
    final = clusters["cluster"].to_numpy()

    def silhouette(points: np.ndarray, labels: np.ndarray) -> float | None:
        if len(np.unique(labels)) < 2:
            return None
        sample = min(params.silhouette_sample, len(labels))
        # Pairwise distances in 64 MB chunks, not one n × n matrix.
        with sklearn.config_context(working_memory=64):
            return float(
                silhouette_score(
                    points, labels, sample_size=sample, random_state=params.seed
                )
            )

    report = {
        "titles": len(final),
        "n_clusters": params.n_clusters,
        "variant": params.variant,
        "iterations": training["iterations"],
        "stop_reason": training["stop_reason"],
        "weak_labels": "most specific listed_in genre (broad tags such as International Movies ignored)",
        "weak_label_classes": int(len(np.unique(truth))),
        "kmeans_start": {
            "non_empty_clusters": int(len(np.unique(kmeans_labels))),
            "silhouette": silhouette(embeddings, kmeans_labels),
            **agreement(truth, kmeans_labels),
        },
        "final": {
            "non_empty_clusters": int(len(np.unique(final))),
            "silhouette": silhouette(dec_embeddings, final),
            **agreement(truth, final),
        },
    }
    logger.info(
        "Clusters in use %d/%d; NMI against genres %.3f (KMeans start %.3f), ARI %.3f (%.3f).",
        report["final"]["non_empty_clusters"],
        params.n_clusters,
        report["final"]["nmi"],
        report["kmeans_start"]["nmi"],
        report["final"]["ari"],
        report["kmeans_start"]["ari"],
    )
    return report
