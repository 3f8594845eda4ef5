"""Descriptions → features → a pretrained autoencoder and 10-d embeddings."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from netflix_dec.encoders import (
    FeatureMatrix,
    FitOptions,
    encoder_type,
    fit_encoder,
    from_settings,
    stack_rows,
)
from netflix_dec.lazy import Figure, KerasModel, pyplot
from netflix_dec.params import DecClusteringParams, EncodingParams
from netflix_dec.storage.caches import FeatureCache, MapCache

logger = logging.getLogger(__name__)


def _descriptions(titles: pd.DataFrame) -> list[str]:
    from netflix_dec.encoders.words import EmptyVocabularyError

    descriptions = titles["description"].fillna("").astype(str)
    if not descriptions.str.strip().any():
        raise EmptyVocabularyError(
            f"No descriptions to encode: the cleaned table has {len(titles)} rows "
            "and none has a non-blank description."
        )
    return descriptions.tolist()


def fit_text_encoder(titles: pd.DataFrame, params: EncodingParams) -> dict[str, Any]:
    """Learn the vocabulary (and IDF or scaling), or name the sentence model.

    Returns:
        The encoder's JSON-ready settings (``text_encoder.json``), which encode
        any description as the training ones.
    """
    options = FitOptions(
        max_words=params.max_words,
        max_length=params.max_length,
        precision=params.sentence_precision,
    )
    return fit_encoder(params.features, _descriptions(titles), options).settings


def encode_descriptions(
    titles: pd.DataFrame,
    text_encoder: dict[str, Any],
    feature_cache: FeatureCache | None,
    params: EncodingParams,
) -> FeatureMatrix:
    """Encode every description, reusing rows cached by earlier runs.

    TF-IDF stays a sparse matrix. The log says how many rows were reused.
    """
    encoded, _ = from_settings(text_encoder).encode(
        _descriptions(titles),
        cache=feature_cache,
        batch_size=params.sentence_batch_size,
    )
    return encoded


def shard_bounds(n_titles: int, shard: int, shards: int) -> tuple[int, int]:
    """The rows ``[start, stop)`` of one shard: contiguous, sizes within one."""
    return shard * n_titles // shards, (shard + 1) * n_titles // shards


def shard_partition(shard: int, shards: int) -> str:
    """A shard's partition name; the count in it keeps runs of other sizes apart."""
    return f"{shard:04d}-of-{shards:04d}"


def encode_shard(
    titles: pd.DataFrame,
    text_encoder: dict[str, Any],
    feature_cache: FeatureCache | None,
    params: EncodingParams,
    *,
    shard: int,
    shards: int,
) -> dict[str, FeatureMatrix]:
    """Encode one contiguous slice of the titles, exactly as the whole table.

    The text encoder (TF-IDF vocabulary and IDF) was fitted once on every title,
    and rows do not depend on each other, so the shards joined in order equal
    the unsharded features. Each shard looks up and stores its own rows in the
    feature cache.

    Returns:
        The shard's features under its partition name.
    """
    start, stop = shard_bounds(len(titles), shard, shards)
    if start == stop:
        raise ValueError(
            f"encoding.shards={shards} is more than the {len(titles)} titles to "
            "encode, so some shards would be empty; use fewer shards."
        )
    logger.info("Shard %d of %d: titles %d to %d.", shard + 1, shards, start, stop - 1)
    # No blank-table check here: fit_text_encoder made it on the whole table, and
    # one shard of blank descriptions is no error.
    descriptions = titles["description"].iloc[start:stop].fillna("").astype(str)
    features, _ = from_settings(text_encoder).encode(
        descriptions.tolist(),
        cache=feature_cache,
        batch_size=params.sentence_batch_size,
    )
    return {shard_partition(shard, shards): features}


def join_feature_shards(
    *shards: dict[str, Callable[[], FeatureMatrix]],
) -> FeatureMatrix:
    """Stack the shards' features in shard order, which is the titles' order.

    Args:
        shards: Each shard's partitioned dataset, in shard order; only the
            partition this run wrote is read from each (older runs' partitions
            with another shard count may share the folder).
    """
    parts = []
    for index, partitions in enumerate(shards):
        name = shard_partition(index, len(shards))
        if name not in partitions:
            raise ValueError(
                f"Feature shard {name} is missing; found {sorted(partitions)}."
            )
        parts.append(partitions[name]())
    features = stack_rows(parts)
    logger.info(
        "Features joined from %d shards: %d titles × %d.", len(parts), *features.shape
    )
    return features


def resolve_dims(params: EncodingParams, n_features: int) -> list[int]:
    """The layer widths, with a null first entry read as the feature width."""
    first = params.dims[0]
    if first is not None and first != n_features:
        raise ValueError(
            f"encoding.dims[0] is {first} but the {params.features} features have "
            f"{n_features} columns; set dims[0] to {n_features} or to null (the "
            "feature width)."
        )
    return [n_features, *params.dims[1:]]


def embedding_kind(params: EncodingParams) -> str:
    """``umap``, ``features`` or ``autoencoder``: what the clustering layer clusters.

    ``auto`` clusters sentence features in their UMAP space
    (:mod:`netflix_dec.space`; on the real file +0.015 NMI against genres and
    seed-to-seed ARI from 0.52 to above 0.8 over KMeans on the features) and
    pretrains the autoencoder for TF-IDF and sequences: sparse TF-IDF rows
    have no dense neighbour encoder, and neither was measured in UMAP.
    Before UMAP (``features``): on the real catalogue KMeans on the
    384-d sentence features scores 0.228 NMI against genres and the
    autoencoder's 10-d bottleneck 0.190 (0.160 against 0.259 on 850 titles):
    trained on a few thousand rows, the bottleneck loses more of what the
    sentence model knows than it adds. Word counts are another matter: sparse,
    10,000-wide and noisy, they gain from the autoencoder.
    """
    if params.embedding != "auto":
        return params.embedding
    return "umap" if encoder_type(params.features).pretrained else "autoencoder"


def pretrain_autoencoder(
    features: FeatureMatrix,
    params: EncodingParams,
    space_cache: MapCache | None = None,
    descriptions: Sequence[str] | None = None,
) -> tuple[KerasModel, dict[str, list[float]]]:
    """Build and train the autoencoder, or the feature embedding that needs none.

    ``descriptions`` (one per feature row) are what the UMAP space's word
    graph reads (``encoding.umap_word_weight``); only that space needs them.

    Returns:
        ``(autoencoder, history)``; :func:`netflix_dec.dec.encoder_of` finds
        the encoder inside. With the feature embedding (see
        :func:`embedding_kind`) the model is the L2-normalising embedding
        itself and the history is empty: there is nothing to pretrain; with
        the UMAP space it is the space's encoder (:func:`space_encoder`).
    """
    import keras

    from netflix_dec import dec

    dims = resolve_dims(params, features.shape[1])
    if features.shape[0] < 2:
        raise ValueError(
            f"Need at least 2 titles to train on, got {features.shape[0]}."
        )
    if embedding_kind(params) == "umap":
        return space_encoder(features, params, space_cache, descriptions), {"loss": []}
    if embedding_kind(params) == "features":
        if sparse.issparse(features):
            raise ValueError(
                f"encoding.embedding is features, but the {params.features} features "
                "are sparse; cluster them through the autoencoder (embedding: "
                "autoencoder or auto)."
            )
        logger.info(
            "No autoencoder: the clustering layer works on the %d-d %s features, "
            "L2-normalised (encoding.embedding: %s).",
            features.shape[1],
            params.features,
            params.embedding,
        )
        embedding = dec.build_feature_embedding(features.shape[1])
        return embedding, {"loss": []}
    autoencoder, _ = dec.build_autoencoder(
        dims,
        activation=params.activation,
        sparse_input=sparse.issparse(features),
        seed=params.seed,
    )
    optimizer = keras.optimizers.get(
        {
            "class_name": params.optimizer,
            "config": {"learning_rate": params.learning_rate},
        }
    )
    logger.info(
        "Pretraining autoencoder %s: %s, %s loss, %s%d epochs of batch %d.",
        dims,
        params.optimizer,
        params.loss,
        "at most " if params.early_stopping_patience else "",
        params.epochs,
        params.batch_size,
    )
    history = dec.pretrain_autoencoder(
        autoencoder,
        features,
        optimizer=optimizer,
        loss=params.loss,
        epochs=params.epochs,
        batch_size=params.batch_size,
        seed=params.seed,
        # A live progress bar in a terminal, one line per epoch in files and CI logs.
        verbose=1 if sys.stdout.isatty() else 2,
        patience=params.early_stopping_patience,
    )
    if len(history["loss"]) < params.epochs:
        logger.info(
            "Early stopping after %d of %d epochs: the loss stopped improving.",
            len(history["loss"]),
            params.epochs,
        )
    return autoencoder, history


def placement_settings(params: EncodingParams) -> dict[str, Any]:
    """How a followed layout places its new titles (:func:`space_follow.place_new`).

    The layout's own UMAP settings, with a third of the fit's epochs, as
    UMAP's ``transform`` runs.
    """
    return {
        "n_neighbors": params.umap_neighbors,
        "metric": params.umap_metric,
        "min_dist": params.umap_min_dist,
        "n_epochs": max(params.umap_epochs // 3, 1),
        "seed": params.seed,
        "word_weight": params.umap_word_weight,
    }


def follow_or_pretrain(
    features: FeatureMatrix,
    titles: pd.DataFrame,
    params: EncodingParams,
    space_cache: MapCache | None,
    previous_autoencoder: KerasModel | None,
    dec_params: DecClusteringParams,
) -> tuple[KerasModel, dict[str, list[float]]]:
    """The previous run's UMAP layout carried over, or :func:`pretrain_autoencoder`.

    With ``dec_clustering.continuity: previous``, the UMAP space and a
    previous space encoder (the newest ``autoencoder``, or the version
    ``--load-versions previous_autoencoder:<version>`` names), the titles
    still in the catalogue keep their positions and new ones are placed by
    the previous encoder (:mod:`netflix_dec.space_follow`): a refit would
    draw another layout and move clusters. The layout is refitted when more
    than ``dec_clustering.continuity_refit_share`` of its titles are new or
    gone since it was fitted (summed over the retrains that followed it), or
    when it cannot be followed (the log says why).
    """
    from netflix_dec import space, space_follow

    descriptions = _descriptions(titles)
    if (
        dec_params.continuity != "previous"
        or previous_autoencoder is None
        or embedding_kind(params) != "umap"
        or sparse.issparse(features)
    ):
        return pretrain_autoencoder(features, params, space_cache, descriptions)
    why = space_follow.why_not_follow(
        previous_autoencoder,
        features.shape[0],
        features.shape[1],
        n_components=params.umap_components,
        n_neighbors=params.umap_neighbors,
        max_fit=params.umap_max_fit,
    )
    place = placement_settings(params)
    layout = (
        None
        if why
        else space_follow.follow_layout(
            previous_autoencoder,
            features,
            place,
            space.word_rows(descriptions) if params.umap_word_weight > 0 else None,
        )
    )
    if layout is not None and layout.since_fit > dec_params.continuity_refit_share:
        why = (
            f"{100 * layout.since_fit:.1f}% of its titles are new or gone since it "
            f"was fitted ({100 * layout.change:.1f}% in this run), above "
            f"dec_clustering.continuity_refit_share={dec_params.continuity_refit_share}"
        )
    if why:
        logger.info("UMAP layout fitted anew, not followed: %s.", why)
        return pretrain_autoencoder(features, params, space_cache, descriptions)
    logger.info(
        "Following the previous run's UMAP layout: %d titles keep their positions, "
        "%d new ones placed among them (UMAP's objective, the others fixed), %d gone "
        "(%.1f%% changed, %.1f%% since the layout was fitted; refitted above %.0f%%, "
        "dec_clustering.continuity_refit_share).",
        layout.kept,
        layout.new,
        layout.gone,
        100 * layout.change,
        100 * layout.since_fit,
        100 * dec_params.continuity_refit_share,
    )
    neighbours = min(params.umap_neighbors, len(layout.landmarks) - 1)
    encoder = space.build_space_encoder(
        layout.landmarks,
        layout.positions,
        neighbours,
        params.umap_temperature,
        followed_change=layout.since_fit,
    )
    return encoder, {"loss": []}


def umap_settings(
    params: EncodingParams, n_rows: int, with_words: bool
) -> dict[str, Any]:
    """The keyword settings of :func:`netflix_dec.space.fit_umap` for ``n_rows`` titles.

    One place for them, so that whoever fits a layout as the node does (the
    benchmarks) also finds it under the node's cache key. A catalogue smaller
    than the neighbourhood takes every other title as a neighbour.
    """
    return {
        "n_components": params.umap_components,
        "n_neighbors": min(params.umap_neighbors, n_rows - 1),
        "min_dist": params.umap_min_dist,
        "metric": params.umap_metric,
        "n_epochs": params.umap_epochs,
        "seed": params.seed,
        "word_weight": params.umap_word_weight if with_words else 0.0,
    }


def _sample_words(
    descriptions: Sequence[str] | None,
    rows: np.ndarray,
    n_titles: int,
    params: EncodingParams,
) -> Any:
    """The fitted rows' word rows for UMAP's graph, or None without a word weight.

    Checked before any layout is fitted: a caller that forgot the descriptions
    would otherwise get the features' graph alone without a word of warning.
    """
    from netflix_dec import space

    if params.umap_word_weight == 0:
        return None
    if descriptions is None or len(descriptions) != n_titles:
        raise ValueError(
            f"encoding.umap_word_weight={params.umap_word_weight} blends the "
            "descriptions' words into UMAP's graph: expected one description "
            f"per feature row ({n_titles}), got "
            f"{'none' if descriptions is None else len(descriptions)}."
        )
    words = space.word_rows([descriptions[i] for i in rows])
    if words is None:
        logger.warning(
            "No word is shared by two of the %d descriptions: UMAP's graph is "
            "the features' alone (encoding.umap_word_weight ignored).",
            len(rows),
        )
    return words


def space_encoder(
    features: FeatureMatrix,
    params: EncodingParams,
    cache: MapCache | None,
    descriptions: Sequence[str] | None = None,
) -> KerasModel:
    """UMAP of the features (or of a sample) and the Keras encoder into it.

    The layout is looked up in ``cache`` under a hash of the fitted rows, their
    words and every setting (:func:`netflix_dec.space.space_key`) before it is
    fitted. The words (``descriptions``) shape the neighbour graph only: the
    encoder places a title by its features.

    Raises:
        ValueError: ``encoding.umap_word_weight`` is above 0 but no
            descriptions were given, or not one per feature row.
    """
    from netflix_dec import space
    from netflix_dec.evaluation import sample_rows
    from netflix_dec.storage.arrays import read_rows

    if sparse.issparse(features):
        raise ValueError(
            f"encoding.embedding is umap, but the {params.features} features are "
            "sparse; use embedding: autoencoder (or auto) for them."
        )
    rows = sample_rows(features.shape[0], params.umap_max_fit, params.seed)
    words = _sample_words(descriptions, rows, features.shape[0], params)
    sample = space.unit_rows(read_rows(features, rows))
    if len(rows) < features.shape[0]:
        logger.info(
            "UMAP fitted on %d of %d titles (encoding.umap_max_fit); the encoder "
            "places the others.",
            len(rows),
            features.shape[0],
        )
    settings = umap_settings(params, len(rows), words is not None)
    neighbours = settings["n_neighbors"]
    if neighbours < params.umap_neighbors:
        logger.warning(
            "Only %d titles: UMAP uses %d neighbours, not encoding.umap_neighbors=%d.",
            len(rows),
            neighbours,
            params.umap_neighbors,
        )
    key = space.space_key(sample, settings, words)
    positions = (
        cache.lookup(key, rows=len(sample), width=params.umap_components)
        if cache is not None
        else None
    )
    if positions is None:
        positions = space.fit_umap(sample, words=words, **settings)
        if cache is not None:
            cache.store(key, positions)
    else:
        logger.info(
            "UMAP layout reused from %s (same rows, same settings).", cache.path
        )
    return space.build_space_encoder(
        sample, positions, neighbours, params.umap_temperature
    )


def embed_titles(autoencoder: KerasModel, features: FeatureMatrix) -> np.ndarray:
    """Each title's embedding from the pretrained autoencoder's encoder."""
    from netflix_dec import dec
    from netflix_dec.batching import predict

    # copy=False: predict already gives float32, and a copy of a million
    # titles' embeddings is another gigabyte.
    embedding = predict(dec.encoder_of(autoencoder), features)
    return embedding.astype(np.float32, copy=False)


def plot_loss_curve(history: dict[str, list[float]]) -> Figure:
    """Reconstruction loss per epoch: flat early means too few epochs wasted."""
    losses = history["loss"]
    fig, ax = pyplot().subplots(figsize=(8, 4.5), layout="constrained")
    if not losses:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "No autoencoder was pretrained:\nthe clusters are made on the features "
            "themselves (encoding.embedding).",
            ha="center",
            va="center",
        )
        return fig
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, marker="o", markersize=3)
    ax.set(
        title="Autoencoder pretraining loss",
        xlabel="Epoch",
        ylabel="Reconstruction loss",
        yscale="log" if min(losses) > 0 else "linear",
    )
    ax.grid(alpha=0.3)
    return fig
