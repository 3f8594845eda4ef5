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
from scipy import sparse

from netflix_dec import continuity
from netflix_dec.encoders import FeatureMatrix, from_settings
from netflix_dec.evaluation import (
    BROAD_TAGS,
    agreement,
    split_genres,
    weak_genre_labels,
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
) -> tuple[KerasModel, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Initialise centroids with KMeans, then train DEC or IDEC.

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
        params,
        autoencoder=autoencoder if idec else None,
        # A live progress bar in a terminal; in files and CI logs the log lines say it.
        verbose=sys.stdout.isatty(),
        on_update=log_update,
        initial_centroids=_previous_start(previous_labels, params),
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


# Of a cluster's top three words, none may name more than this many clusters.
TOP_THREE_SHARE = 2


def distinctive_words(
    descriptions: pd.Series, clusters: np.ndarray, n_clusters: int, top_words: int
) -> dict[int, list[str]]:
    """Each cluster's most distinctive words by class-based TF-IDF (as BERTopic).

    Each cluster's descriptions are one document: a word scores by its share
    of the cluster's words (a word counts once per description) times
    ``log(1 + A / f)``, ``A`` the average number of words per cluster and
    ``f`` the word's count in the whole catalogue. Words that
    are over-represented in many clusters ("life", "woman") tell none apart;
    they are down-weighted by ``log(1 + K / k) / log(1 + K)`` for a word over-
    represented in ``k`` of ``K`` clusters. Finally no word may stand in more
    than two clusters' top three: the best-scoring pairs are placed first.
    English stop words, numbers and words of one or two letters are left out.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        stop_words="english",
        min_df=2,
        binary=True,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
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
    sizes = per_cluster.sum(axis=1, keepdims=True)
    share = per_cluster / np.maximum(sizes, 1.0)
    in_use = np.count_nonzero(sizes)
    average_words = per_cluster.sum() / max(in_use, 1)
    totals = per_cluster.sum(axis=0)
    idf = np.log1p(average_words / np.maximum(totals, 1.0))
    overall = totals / max(per_cluster.sum(), 1.0)
    spread = np.maximum((share > overall).sum(axis=0), 1)
    common = np.log1p(in_use / spread) / np.log1p(max(in_use, 1))
    scores = share * idf * common
    vocabulary = vectorizer.get_feature_names_out()

    ranked = {
        cluster: [j for j in np.argsort(-scores[cluster]) if scores[cluster, j] > 0]
        for cluster in range(n_clusters)
    }
    # Top three first, best pairs first, each word in at most TOP_THREE_SHARE clusters.
    depth = 3 * TOP_THREE_SHARE + 3
    pairs = sorted(
        (
            (-scores[cluster, j], cluster, j)
            for cluster, words in ranked.items()
            for j in words[: depth * 4]
        ),
    )
    chosen: dict[int, list[int]] = {cluster: [] for cluster in range(n_clusters)}
    used: dict[int, int] = {}
    for _, cluster, j in pairs:
        if len(chosen[cluster]) < 3 and used.get(j, 0) < TOP_THREE_SHARE:
            chosen[cluster].append(j)
            used[j] = used.get(j, 0) + 1
    result = {}
    for cluster in range(n_clusters):
        order = sorted(chosen[cluster], key=lambda j: -scores[cluster, j])
        for j in ranked[cluster]:
            if len(order) >= 3:
                break
            if j not in order and used.get(j, 0) < TOP_THREE_SHARE:
                order.append(j)
                used[j] = used.get(j, 0) + 1
        # Short of three words that name no two other clusters, the list stays
        # short rather than lead with words that tell nothing apart.
        if len(order) == 3:
            order += [j for j in ranked[cluster] if j not in order]
        result[cluster] = [str(vocabulary[j]) for j in order[:top_words]]
    return result


# A genre names a cluster only if at least this share of its titles list it.
GENRE_SHARE = 0.2


def cluster_genre(counts: pd.Series, size: int, catalogue_share: pd.Series) -> str:
    """The genre that tells a cluster apart: common in it, rarer elsewhere.

    Of the specific genres (not broad tags such as "International Movies")
    that at least ``GENRE_SHARE`` of the cluster's titles list, the one most
    over-represented against the whole catalogue; else the commonest specific
    genre. "Dramas" is the commonest genre of half the clusters and names
    only those it is most typical of.
    """
    specific = counts[[genre not in BROAD_TAGS for genre in counts.index]]
    if specific.empty:
        return str(counts.index[0]) if len(counts) else ""
    frequent = specific[specific >= GENRE_SHARE * size]
    if frequent.empty:
        return str(specific.index[0])
    lift = (frequent / size) / catalogue_share.reindex(frequent.index)
    return str(lift.idxmax())


def cluster_name(words: list[str], genre: str) -> str:
    """A short legend name: three distinctive words and the cluster's genre."""
    name = ", ".join(words[:3])
    return f"{name} · {genre}" if name and genre else name or genre


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
    labels = labels.astype(int)
    by_position = distinctive_words(
        titles["description"], labels, len(numbers), params.top_words
    )
    words = {numbers[i]: w for i, w in by_position.items()}
    genres = split_genres(_genres_or_none(titles))
    catalogue_share = genres.explode().dropna().value_counts() / max(len(titles), 1)
    summary = []
    for cluster in numbers:
        members = np.flatnonzero(labels == position[cluster])
        best = clusters.iloc[members].sort_values("confidence", ascending=False)
        genre_counts = genres.iloc[members].explode().dropna().value_counts()
        summary.append(
            {
                "cluster": cluster,
                "name": cluster_name(
                    words[cluster],
                    cluster_genre(genre_counts, len(members), catalogue_share),
                ),
                "size": len(members),
                "top_words": words[cluster],
                "top_genres": {str(k): int(v) for k, v in genre_counts.head(5).items()},
                "examples": best["title"].head(params.examples).tolist(),
            }
        )
    return continuity.apply_names(
        {"clusters": summary}, continuity.read_names(names, "cluster_names")
    )


def _genres_or_none(titles: pd.DataFrame) -> pd.Series:
    """``listed_in``, or no genre for any title when the catalogue has none."""
    if "listed_in" in titles:
        return titles["listed_in"]
    return pd.Series("", index=titles.index, dtype=object)


# Agreement with genres when the catalogue has no listed_in column.
_NO_GENRES = {"nmi": None, "ari": None, "accuracy": None}


SAME_POINTS_ATOL = 1e-6
"""Largest coordinate difference of two embeddings taken as the same points."""


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
    import sklearn
    from sklearn.metrics import silhouette_score

    has_genres = "listed_in" in titles
    truth = weak_genre_labels(_genres_or_none(titles)).to_numpy()
    final = clusters["cluster"].to_numpy()
    kmeans_labels = _numbers(identities, params.n_clusters)[kmeans_labels]

    # One sample of titles for both silhouettes (they are quadratic in titles);
    # only its rows of the embeddings are read (read_rows), so memory-mapped
    # embeddings of a large catalogue never become resident whole.
    n = len(final)
    rows = (
        np.sort(
            np.random.default_rng(params.seed).choice(
                n, size=params.silhouette_sample, replace=False
            )
        )
        if n > params.silhouette_sample
        else np.arange(n)
    )

    def silhouette(points: np.ndarray, labels: np.ndarray) -> float | None:
        if len(np.unique(labels)) < 2:
            return None
        # Pairwise distances in 64 MB chunks, not one n × n matrix; in float64,
        # which scikit-learn computes faster than float32 (it upcasts float32
        # chunk by chunk): 1.0 s against 1.7 s of CPU on the real file.
        with sklearn.config_context(working_memory=64):
            return float(silhouette_score(points.astype(np.float64), labels))

    start = agreement(truth, kmeans_labels) if has_genres else _NO_GENRES
    end = agreement(truth, final) if has_genres else _NO_GENRES
    start_points = read_rows(embeddings, rows)
    start_silhouette = silhouette(start_points, kmeans_labels[rows])
    # DEC that kept its start in an unchanged embedding (sentence features, or
    # the guard restored the start) has the start's silhouette: same points,
    # same labels, same sample. Quadratic in titles, so not measured twice.
    # "Same points" allows float rounding: KMeans centres its input in place
    # and adds the mean back, which leaves the stored DEC embedding of the
    # sentence features a few 1e-8 off the features (a second silhouette of
    # the real file's map cost a second and differed in the 8th digit).
    final_points = read_rows(dec_embeddings, rows)
    unchanged = (
        np.array_equal(final[rows], kmeans_labels[rows])
        and start_points.shape == final_points.shape
        and np.allclose(start_points, final_points, rtol=0, atol=SAME_POINTS_ATOL)
    )
    final_silhouette = (
        start_silhouette if unchanged else silhouette(final_points, final[rows])
    )
    report = {
        "titles": len(final),
        "n_clusters": params.n_clusters,
        "variant": params.variant,
        "iterations": training["iterations"],
        "stop_reason": training["stop_reason"],
        "weak_labels": "most specific listed_in genre (broad tags such as International Movies ignored)"
        if has_genres
        else "listed_in: not in this catalogue",
        "weak_label_classes": int(len(np.unique(truth))) if has_genres else 0,
        "kmeans_start": {
            "non_empty_clusters": int(len(np.unique(kmeans_labels))),
            "silhouette": start_silhouette,
            **start,
        },
        "final": {
            "non_empty_clusters": int(len(np.unique(final))),
            "silhouette": final_silhouette,
            **end,
        },
        # What DEC's iterations earned over their own start.
        "dec": {
            "moved": float(np.mean(final != kmeans_labels)),
            "nmi_gain": end["nmi"] - start["nmi"] if has_genres else None,
            "ari_gain": end["ari"] - start["ari"] if has_genres else None,
            "kept_start": bool(training.get("kept_start", False)),
            "outcome": training.get("outcome", ""),
        },
    }
    if params.stability_seeds:
        report["stability"] = seed_stability(embeddings, params)
    if not has_genres:
        logger.info(
            "Clusters in use %d/%d; no agreement with genres (listed_in: not in this "
            "catalogue); DEC moved %.1f%% of titles.",
            report["final"]["non_empty_clusters"],
            params.n_clusters,
            100 * report["dec"]["moved"],
        )
        return report
    logger.info(
        "Clusters in use %d/%d; NMI against genres %.3f (KMeans start %.3f, DEC's "
        "gain %+.4f), ARI %.3f (%.3f); DEC moved %.1f%% of titles.",
        report["final"]["non_empty_clusters"],
        params.n_clusters,
        end["nmi"],
        start["nmi"],
        report["dec"]["nmi_gain"],
        end["ari"],
        start["ari"],
        100 * report["dec"]["moved"],
    )
    return report


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
        continuity.words_of(summary),
        continuity.read_names(names, "cluster_names"),
        followed["mode"],
    )
    logger.info("%s", report["summary"])
    return report, continuity.plot_changes(report, continuity.words_of(summary))


def export_cluster_names(summary: dict[str, Any]) -> pd.DataFrame:
    """The generated names in the names file's format: a start for the user's."""
    return continuity.names_table(summary, "generated_name")


def seed_stability(
    embeddings: np.ndarray, params: DecClusteringParams
) -> dict[str, Any]:
    """How much of the KMeans start other seeds find again: mean ARI between seeds.

    KMeans with ``kmeans_n_init`` starts and seeds ``seed, seed + 1, ...``
    (``stability_seeds`` of them) on the clustering space this run made. The
    space's own seed (UMAP's layout) is held: the quality benchmark varies it
    too (benchmarks/results/results.md).
    """
    import itertools

    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    seeds = [params.seed + index for index in range(params.stability_seeds)]
    points = np.asarray(embeddings, dtype=np.float32)
    runs = [
        KMeans(params.n_clusters, n_init=params.kmeans_n_init, random_state=seed)
        .fit(points)
        .labels_
        for seed in seeds
    ]
    scores = [adjusted_rand_score(a, b) for a, b in itertools.combinations(runs, 2)]
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
