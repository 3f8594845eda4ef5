"""Cluster the embeddings with DEC/IDEC and describe and score the clusters."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from netflix_dec import continuity, naming
from netflix_dec.encoders import FeatureMatrix, from_settings
from netflix_dec.evaluation import (
    compare_with_start,
    kmeans_runs,
    sample_rows,
    seed_agreement,
)
from netflix_dec.lazy import Figure, KerasModel
from netflix_dec.params import DecClusteringParams
from netflix_dec.storage.arrays import read_rows

logger = logging.getLogger(__name__)


def train_dec(
    autoencoder: KerasModel,
    features: FeatureMatrix,
    params: DecClusteringParams,
    previous_labels: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
) -> tuple[KerasModel, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Initialise centroids with KMeans, then train DEC or IDEC.

    ``embeddings`` (the encoding pipeline's, the same encoder's pass over the
    same features) is where KMeans starts, so DEC does not repeat that pass.

    With ``previous_labels`` (each title's cluster number in the run this one
    follows, -1 for titles new to it; see :func:`follow_previous_run`), KMeans
    starts from the previous clusters' centroids recomputed in this run's
    space, plus k-means++ ones for clusters the previous run did not have.

    Returns:
        The DEC model (features → soft assignments), the soft assignments,
        the final embeddings, the KMeans start labels and a training record
        (iterations, stop reason, share of titles moved, whether the KMeans
        start was kept, one entry per target update).
    """
    from netflix_dec import dec

    encoder = dec.encoder_of(autoencoder)
    decoder = dec.has_decoder(autoencoder)
    idec = params.variant == "idec" and decoder
    _log_start(params, idec, decoder)
    result = dec.fit_dec(
        encoder,
        features,
        dec.DecConfig.of(params),
        autoencoder=autoencoder if idec else None,
        # A live progress bar in a terminal; in files and CI logs the log lines say it.
        verbose=sys.stdout.isatty(),
        on_update=_log_update,
        initial_centroids=_previous_start(previous_labels, params),
        start_embedding=embeddings,
    )
    record = training_record(result, params)
    logger.info(
        "DEC stopped after %d iterations: %s.", result.iterations, record["stop_detail"]
    )
    logger.info("%s", record["outcome"])
    return (
        result.model,
        # No copy when already float32: the embedding is 1 GB at 700,000 titles.
        np.asarray(result.q, dtype=np.float32),
        np.asarray(result.embedding, dtype=np.float32),
        result.kmeans_labels.astype(np.int32),
        record,
    )


def _log_start(params: DecClusteringParams, idec: bool, decoder: bool) -> None:
    """What is trained, on what, with which settings."""
    logger.info(
        "Training %s on the %s: %d clusters, batch %d, at most %d iterations, "
        "target update every %d, tol %g, learning rate %g%s, guard %s.",
        "IDEC" if idec else "DEC",
        "autoencoder's embedding" if decoder else "features (no autoencoder)",
        params.n_clusters,
        params.batch_size,
        params.maxiter,
        params.update_interval,
        params.tol,
        params.learning_rate,
        f", gamma {params.gamma}" if idec else "",
        params.guard,
    )
    if params.variant == "idec" and not decoder:
        logger.info("No decoder to keep training (no autoencoder): IDEC is DEC here.")


def _log_update(record: dict[str, float | None]) -> None:
    loss = record["loss"]
    logger.info(
        "iteration %d: %s, %.2f%% of titles changed cluster, %d clusters in use",
        record["iteration"],
        "before training" if loss is None else f"loss {loss:.5f}",
        100 * record["changed"],
        record["clusters"],
    )


def _previous_start(
    previous_labels: np.ndarray | None, params: DecClusteringParams
) -> Any:
    """The start-centroid function of a run that follows a previous one, or None."""
    if previous_labels is None or not (np.asarray(previous_labels) >= 0).any():
        return None
    from functools import partial

    before = np.asarray(previous_labels, dtype=np.int64)
    logger.info(
        "Starting from the previous run's clusters: %d of them have titles still "
        "in the catalogue (%d of %d titles were clustered before).",
        len(np.unique(before[before >= 0])),
        int((before >= 0).sum()),
        len(before),
    )
    return partial(
        continuity.start_centroids,
        before=before,
        n_clusters=params.n_clusters,
        seed=params.seed,
    )


def training_record(result: Any, params: DecClusteringParams) -> dict[str, Any]:
    """What ``dec_training.json`` says: why DEC stopped, what it moved and kept."""
    stop = (
        f"fewer than tol={params.tol:g} of titles changed cluster"
        if result.stop_reason == "tol"
        else f"reached maxiter={params.maxiter}"
    )
    if result.kept_start:
        outcome = (
            f"Kept the KMeans start: DEC's own clusters (moving "
            f"{100 * result.dec_moved:.1f}% of titles) were less separated than it "
            f"(silhouette {result.dec_silhouette:.4f} against "
            f"{result.start_silhouette:.4f})."
            if result.dec_silhouette is not None
            else "Kept the KMeans start: DEC left fewer than two clusters."
        )
    elif result.moved == 0:
        outcome = "Kept the KMeans start: DEC moved no title."
    else:
        outcome = (
            f"DEC moved {100 * result.moved:.1f}% of titles from their KMeans start "
            f"(silhouette {result.dec_silhouette:.4f}, start {result.start_silhouette:.4f})."
        )
    return {
        "variant": params.variant,
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
        "stop_detail": stop,
        "moved": round(result.moved, 4),
        "kept_start": bool(result.kept_start or result.moved == 0),
        "guard": params.guard,
        "start_silhouette": result.start_silhouette,
        "dec_silhouette": result.dec_silhouette,
        "dec_moved": round(result.dec_moved, 4),
        "outcome": outcome,
        "seconds": round(result.seconds, 2),
        "updates": result.updates,
    }


def assign_clusters(
    titles: pd.DataFrame,
    soft_assignments: np.ndarray,
    identities: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per title: its cluster number and how confident the assignment is.

    The number is the one ``identities`` gives the most likely soft-assignment
    column (the column's own index without them).
    """
    if len(titles) != len(soft_assignments):
        raise ValueError(
            f"{len(titles)} titles but {len(soft_assignments)} soft assignments: the "
            "features were made from another table; rerun the encoding pipeline."
        )
    return pd.DataFrame(
        {
            "show_id": titles["show_id"].to_numpy(),
            "title": titles["title"].to_numpy(),
            "cluster": _numbers(identities, soft_assignments.shape[1])[
                soft_assignments.argmax(axis=1)
            ],
            "confidence": soft_assignments.max(axis=1).round(4),
        }
    )


Percentile = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Calibration(BaseModel):
    """The schema of ``dec_calibration.json`` (:func:`calibrate_novelty`).

    Checked when it is loaded or saved: NaN, huge or negative percentiles
    would make every new title (or none) novel, and a missing key would fail
    as a bare ``KeyError`` in the assign pipeline.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    titles: StrictInt = Field(ge=1)
    n_clusters: StrictInt = Field(ge=2)
    # The cluster number of each soft-assignment column (continuity); absent in
    # calibrations written before cluster numbers were kept across runs.
    cluster_numbers: list[Annotated[StrictInt, Field(ge=0)]] | None = None
    features: StrictStr
    feature_width: StrictInt | None = Field(ge=1)
    settings_key: StrictStr = Field(pattern=r"^[0-9a-f]{64}$")
    confidence_percentiles: list[Percentile] = Field(min_length=101, max_length=101)

    @field_validator("confidence_percentiles")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        if (np.diff(value) < 0).any():
            raise ValueError("percentiles must not decrease (0th to 100th)")
        return value

    @model_validator(mode="after")
    def _one_number_per_cluster(self) -> Calibration:
        numbers = self.cluster_numbers
        if numbers is not None and (
            len(numbers) != self.n_clusters or len(set(numbers)) != len(numbers)
        ):
            raise ValueError(
                f"cluster_numbers must give {self.n_clusters} distinct numbers, "
                f"one per cluster; got {numbers}"
            )
        return self


def _numbers(identities: dict[str, Any] | None, n_slots: int) -> np.ndarray:
    """The cluster number of each soft-assignment column."""
    if identities is None:
        return np.arange(n_slots)
    numbers = np.asarray(identities["numbers"], dtype=int)
    if len(numbers) != n_slots:
        raise ValueError(
            f"cluster_identities numbers {len(numbers)} clusters but the soft "
            f"assignments have {n_slots}: they come from different runs; rerun "
            "the dec_clustering pipeline."
        )
    return numbers


def calibrate_novelty(
    soft_assignments: np.ndarray,
    text_encoder: dict[str, Any],
    identities: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What new titles are measured against: training confidences and settings.

    The confidence percentiles let the assign pipeline flag a new title as
    novel when it fits its cluster worse than nearly every training title; the
    feature settings let it refuse an encoder from another run.
    """
    confidence = soft_assignments.max(axis=1).astype(np.float64)
    encoder = from_settings(text_encoder)
    return {
        "titles": int(soft_assignments.shape[0]),
        "n_clusters": int(soft_assignments.shape[1]),
        # The number of each soft-assignment column: what assign reports.
        "cluster_numbers": _numbers(identities, soft_assignments.shape[1]).tolist(),
        "features": encoder.kind,
        "feature_width": encoder.width,
        "settings_key": encoder.settings_key,
        "confidence_percentiles": np.percentile(confidence, np.arange(101)).tolist(),
    }


def summarize_clusters(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    params: DecClusteringParams,
    identities: dict[str, Any] | None = None,
    names: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Per cluster: a name, size, distinctive words, common genres, examples.

    Clusters are listed by number (``identities``; 0 .. n - 1 without). The
    summary's ``name`` is the one every output shows: the user's from the
    names file (``names``, cluster → name) where given, else the generated
    one, which is kept as ``generated_name`` either way.
    """
    numbers = _numbers(identities, params.n_clusters).tolist()
    position = {number: i for i, number in enumerate(numbers)}
    labels = clusters["cluster"].map(position).to_numpy()
    if pd.isna(labels).any():
        raise ValueError(
            "clusters has cluster numbers that cluster_identities does not list: "
            "they come from different runs; rerun the dec_clustering pipeline."
        )
    summary = naming.describe_clusters(
        titles, clusters, labels.astype(int), numbers, params.top_words, params.examples
    )
    return naming.apply_names(
        {"clusters": summary}, naming.read_names(names, "cluster_names")
    )


def evaluate_clustering(
    titles: pd.DataFrame,
    clusters: pd.DataFrame,
    kmeans_labels: np.ndarray,
    embeddings: np.ndarray,
    dec_embeddings: np.ndarray,
    training: dict[str, Any],
    params: DecClusteringParams,
    identities: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Agreement with weak genre labels and compactness, start against final.

    The KMeans start's labels are soft-assignment columns; ``identities``
    gives them the final clusters' numbers, so that "moved" compares like
    with like.

    NMI and ARI compare the clusters with each title's most specific genre
    (see :mod:`netflix_dec.evaluation`); the silhouette is measured in the
    embedding each clustering was made in, on a sample for large catalogues.
    """
    final = clusters["cluster"].to_numpy()
    start = _numbers(identities, params.n_clusters)[kmeans_labels]
    # One sample of titles for both silhouettes (they are quadratic in titles);
    # only its rows of the embeddings are read (read_rows), so memory-mapped
    # embeddings of a large catalogue never become resident whole.
    rows = sample_rows(len(final), params.silhouette_sample, params.seed)
    report = {
        "titles": len(final),
        "n_clusters": params.n_clusters,
        "variant": params.variant,
        "iterations": training["iterations"],
        "stop_reason": training["stop_reason"],
        **compare_with_start(
            titles["listed_in"] if "listed_in" in titles else None,
            start,
            final,
            read_rows(embeddings, rows),
            read_rows(dec_embeddings, rows),
            rows,
        ),
    }
    report["dec"] |= {
        "kept_start": bool(training.get("kept_start", False)),
        "outcome": training.get("outcome", ""),
    }
    if params.stability_seeds:
        report["stability"] = seed_stability(embeddings, params)
    _log_scores(report, params.n_clusters)
    return report


def _log_scores(report: dict[str, Any], n_clusters: int) -> None:
    """One log line: clusters in use, agreement with genres and DEC's gain."""
    final, start, moved = (
        report["final"],
        report["kmeans_start"],
        report["dec"]["moved"],
    )
    if final["nmi"] is None:
        logger.info(
            "Clusters in use %d/%d; no agreement with genres (listed_in: not in this "
            "catalogue); DEC moved %.1f%% of titles.",
            final["non_empty_clusters"],
            n_clusters,
            100 * moved,
        )
        return
    logger.info(
        "Clusters in use %d/%d; NMI against genres %.3f (KMeans start %.3f, DEC's "
        "gain %+.4f), ARI %.3f (%.3f); DEC moved %.1f%% of titles.",
        final["non_empty_clusters"],
        n_clusters,
        final["nmi"],
        start["nmi"],
        report["dec"]["nmi_gain"],
        final["ari"],
        start["ari"],
        100 * moved,
    )


# ---- continuity: numbers, names and what changed across runs ------------------------


def follow_previous_run(
    titles: pd.DataFrame, previous: dict[str, Any] | None, params: DecClusteringParams
) -> tuple[dict[str, Any], np.ndarray]:
    """What this run follows: the previous run's identities, read once.

    ``previous`` is the newest ``cluster_identities`` (or the version
    ``--load-versions previous_cluster_identities:<version>`` names), None
    before the first run. Every continuity node reads the copy returned here,
    so none can read this run's own identities by mistake.

    Returns:
        ``{"mode", "identity"}`` (identity None when nothing is followed) and
        each title's previous cluster number (-1 for titles new to this run).
    """
    if params.continuity == "fresh" or previous is None:
        logger.info(
            "Cluster numbers start from 0: %s.",
            "dec_clustering.continuity is fresh"
            if params.continuity == "fresh"
            else "no previous run to follow",
        )
        previous = None
    else:
        previous = continuity.check_identity(previous)
    before = continuity.previous_numbers(titles["show_id"].tolist(), previous)
    return {"mode": params.continuity, "identity": previous}, before


def number_clusters(
    titles: pd.DataFrame,
    soft_assignments: np.ndarray,
    followed: dict[str, Any],
) -> dict[str, Any]:
    """Each cluster's number: the previous run's where it is still there.

    Returns:
        This run's identity record (see :func:`netflix_dec.continuity.identity`).
    """
    show_ids = titles["show_id"].tolist()
    slots = soft_assignments.argmax(axis=1)
    n_slots = soft_assignments.shape[1]
    if followed["identity"] is None:
        return continuity.fresh(show_ids, slots, n_slots)
    return continuity.follow(followed["identity"], show_ids, slots, n_slots)


def report_cluster_changes(
    followed: dict[str, Any],
    identities: dict[str, Any],
    summary: dict[str, Any],
    names: pd.DataFrame | None,
) -> tuple[dict[str, Any], Figure]:
    """The change report (JSON) and its figure; the log says it in one sentence."""
    report = continuity.change_report(
        followed["identity"],
        identities,
        naming.cluster_names(summary),
        naming.read_names(names, "cluster_names"),
        followed["mode"],
    )
    logger.info("%s", report["summary"])
    return report, continuity.plot_changes(report, naming.cluster_names(summary))


def export_cluster_names(summary: dict[str, Any]) -> pd.DataFrame:
    """The generated names in the names file's format: a start for the user's."""
    return naming.names_table(summary, "generated_name")


def seed_stability(
    embeddings: np.ndarray, params: DecClusteringParams
) -> dict[str, Any]:
    """How much of the KMeans start other seeds find again: mean ARI between seeds.

    KMeans with ``kmeans_n_init`` starts and seeds ``seed, seed + 1, ...``
    (``stability_seeds`` of them) on the clustering space this run made. The
    space's own seed (UMAP's layout) is held: the quality benchmark varies it
    too (benchmarks/results/results.md).
    """
    seeds = [params.seed + index for index in range(params.stability_seeds)]
    points = np.asarray(embeddings, dtype=np.float32)
    runs = kmeans_runs(points, params.n_clusters, params.kmeans_n_init, seeds)
    scores = seed_agreement(runs)
    logger.info(
        "Stability over KMeans seeds %s: mean ARI %.3f (min %.3f).",
        seeds,
        np.mean(scores),
        np.min(scores),
    )
    return {
        "seeds": seeds,
        "mean_ari": round(float(np.mean(scores)), 4),
        "min_ari": round(float(np.min(scores)), 4),
        "what": "KMeans of each seed on this run's clustering space; the space's own seed is held",
    }
