"""Deep Embedded Clustering in Keras 3: autoencoder, clustering layer, training.

A plain library module (no Kedro), after Xie et al. (2016), "Unsupervised deep
embedding for clustering analysis", and Guo et al. (2017), "Improved deep
embedded clustering with local structure preservation" (IDEC). DEC refines a
pretrained encoder and KMeans centroids by pulling each soft assignment towards
a sharpened version of itself; IDEC keeps the decoder's reconstruction loss in
the objective so that the embedding cannot fold onto a few centroids.

Training runs in Keras's compiled ``fit`` (one ``tf.function`` train step), a
target update at a time, never in Python-level ``train_on_batch`` calls.
Features may be a SciPy sparse matrix: they stay sparse down to the first layer.
How rows reach the model (tf.data batches, prediction into preallocated
arrays) lives in :mod:`netflix_dec.batching`; this module is the algorithm.

Sentence features need no autoencoder: :func:`build_feature_embedding` makes the
clustering layer's input the L2-normalised features themselves. A 10-d
bottleneck trained on a few thousand rows keeps less of what the sentence model
knows than KMeans on the features does (benchmarks/results/results.md).

DEC's self-training only sharpens what its start already says; it can also pull
clusters apart from the structure of the embedding. :func:`fit_dec` therefore
measures both: it returns DEC's clusters only when they are at least as well
separated (silhouette, each in the embedding it was made in) as the KMeans
start, and otherwise keeps the start and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import keras
import numpy as np
from sklearn.cluster import KMeans

from netflix_dec import (
    batching,
    space,  # noqa: F401  (registers NeighbourSpace for loading)
)
from netflix_dec.encoders import FeatureMatrix
from netflix_dec.evaluation import silhouette

logger = logging.getLogger(__name__)

# Titles the guard's silhouette is measured on: enough for a stable estimate,
# quadratic cost bounded on large catalogues.
GUARD_SAMPLE = 5000

EMBEDDING_LAYER = "embedding"
"""Name of the autoencoder's embedding layer: where its encoder ends."""


@dataclass(frozen=True)
class DecConfig:
    """What :func:`fit_dec` reads: DEC's own settings, no pipeline schema.

    The library owns this shape so that it depends on nothing above it; the
    dec_clustering node builds it from its validated parameters
    (:meth:`of`), and a benchmark or notebook can build it by hand. No
    defaults: the pipeline's parameter files are where values are chosen.
    """

    n_clusters: int
    variant: Literal["dec", "idec"]
    gamma: float
    """Weight of IDEC's reconstruction loss against the KL divergence."""
    alpha: float
    """Degrees of freedom of the clustering layer's Student's t kernel."""
    batch_size: int
    maxiter: int
    update_interval: int
    """Iterations between two target-distribution updates."""
    tol: float
    """Stop when fewer than this share of titles changed cluster in an update."""
    learning_rate: float
    momentum: float
    kmeans_n_init: int
    guard: Literal["silhouette", "none"]
    """``silhouette``: keep the KMeans start when DEC's clusters are less separated."""
    seed: int

    @classmethod
    def of(cls, settings: Any) -> DecConfig:
        """The config from any object with these attributes (the node's parameters)."""
        return cls(**{item.name: getattr(settings, item.name) for item in fields(cls)})


@keras.saving.register_keras_serializable(package="netflix_dec")
class ClusteringLayer(keras.layers.Layer):
    """Soft-assign embeddings to centroids with a Student's t kernel.

    ``q[i, j]`` is proportional to ``(1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2)``
    and each row sums to one: the probability that title ``i`` belongs to
    cluster ``j``, as t-SNE measures similarity.
    """

    def __init__(self, n_clusters: int, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)

    def build(self, input_shape: Sequence[int | None]) -> None:
        self.clusters = self.add_weight(
            name="clusters",
            shape=(self.n_clusters, int(input_shape[-1])),
            initializer="glorot_uniform",
        )

    def call(self, inputs: Any) -> Any:
        ops = keras.ops
        distance = ops.sum(
            ops.square(ops.expand_dims(inputs, 1) - self.clusters), axis=2
        )
        q = ops.power(1.0 + distance / self.alpha, -(self.alpha + 1.0) / 2.0)
        return q / ops.sum(q, axis=1, keepdims=True)

    def compute_output_shape(
        self, input_shape: Sequence[int | None]
    ) -> tuple[int | None, int]:
        return (input_shape[0], self.n_clusters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_clusters": self.n_clusters,
            "alpha": self.alpha,
        }


def target_distribution(q: np.ndarray) -> np.ndarray:
    """Sharpen soft assignments: square them, divide by cluster frequency.

    Squaring favours confident assignments; dividing by each cluster's total
    keeps large clusters from swallowing the rest. Rows sum to one.
    """
    weight = q**2 / q.sum(axis=0)
    return weight / weight.sum(axis=1, keepdims=True)


def build_autoencoder(
    dims: Sequence[int],
    activation: str = "relu",
    sparse_input: bool = False,
    seed: int | None = None,
) -> tuple[keras.Model, keras.Model]:
    """The symmetric dense autoencoder of DEC, and its encoder.

    Args:
        dims: Layer widths from the input to the embedding, e.g. DEC's
            ``[n_features, 500, 500, 2000, 10]``; the decoder mirrors them.
        activation: Activation of every hidden layer; the embedding and the
            reconstruction stay linear.
        sparse_input: Accept SciPy/TensorFlow sparse rows without densifying.
        seed: Seed of the weight initialiser.

    Returns:
        ``(autoencoder, encoder)``; both share the encoder's layers.
    """
    dims = [int(width) for width in dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"dims must hold at least two positive widths, got {dims}")
    # DEC's initialisation: uniform with variance 1/(3 fan_in).
    init = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform", seed=seed)
    inputs = keras.Input(shape=(dims[0],), sparse=sparse_input, name="features")
    hidden = inputs
    for i, width in enumerate(dims[1:-1]):
        hidden = keras.layers.Dense(
            width, activation, kernel_initializer=init, name=f"encoder_{i}"
        )(hidden)
    embedding = keras.layers.Dense(
        dims[-1], kernel_initializer=init, name=EMBEDDING_LAYER
    )(hidden)
    hidden = embedding
    for i, width in reversed(list(enumerate(dims[1:-1]))):
        hidden = keras.layers.Dense(
            width, activation, kernel_initializer=init, name=f"decoder_{i}"
        )(hidden)
    outputs = keras.layers.Dense(
        dims[0], kernel_initializer=init, name="reconstruction"
    )(hidden)
    return (
        keras.Model(inputs, outputs, name="autoencoder"),
        keras.Model(inputs, embedding, name="encoder"),
    )


def build_feature_embedding(n_features: int) -> keras.Model:
    """An embedding that is the features themselves, L2-normalised: no autoencoder.

    Used for sentence features, whose geometry is already what clustering
    needs; unit length makes distances cosine distances, the geometry sentence
    models are trained for. The normalising layer is named ``embedding`` like
    the autoencoder's bottleneck, so code that looks the embedding up by name
    works on either. It has no weights: DEC then trains the centroids alone.
    """
    if int(n_features) < 1:
        raise ValueError(f"n_features must be positive, got {n_features}")
    inputs = keras.Input(shape=(int(n_features),), name="features")
    embedding = keras.layers.UnitNormalization(name=EMBEDDING_LAYER)(inputs)
    return keras.Model(inputs, embedding, name="encoder")


def has_decoder(model: keras.Model) -> bool:
    """Whether ``model`` reconstructs its input (an autoencoder, not an embedding)."""
    return any(layer.name == "reconstruction" for layer in model.layers)


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    """The encoder inside an autoencoder (also a reloaded one), sharing its weights.

    Saving the autoencoder is then enough: its encoder need not be stored apart.
    """
    return keras.Model(
        autoencoder.input,
        autoencoder.get_layer(EMBEDDING_LAYER).output,
        name="encoder",
    )


def pretrain_autoencoder(
    autoencoder: keras.Model,
    x: FeatureMatrix,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    loss: str = "mse",
    epochs: int = 50,
    batch_size: int = 256,
    seed: int = 0,
    verbose: int | str = "auto",
    patience: int | None = None,
) -> dict[str, list[float]]:
    """Train the autoencoder to reconstruct its input; return the loss history.

    ``epochs`` is a ceiling when ``patience`` is set: training stops once the
    reconstruction loss has not improved for ``patience`` epochs, and the
    weights of the best epoch are kept, so a plateau costs no more epochs.
    """
    keras.utils.set_random_seed(seed)
    autoencoder.compile(optimizer=optimizer, loss=loss)
    stop = (
        [
            keras.callbacks.EarlyStopping(
                monitor="loss", patience=patience, restore_best_weights=True
            )
        ]
        if patience
        else []
    )
    history = autoencoder.fit(
        batching.batches(x, batch_size, reconstruct=True, shuffle_seed=seed),
        epochs=epochs,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=verbose,
        callbacks=stop,
    )
    return {key: [float(v) for v in values] for key, values in history.history.items()}


@dataclass
class DECResult:
    """What DEC training produced, why it stopped and whether it kept its start."""

    model: keras.Model
    """Features → soft assignments (the encoder plus the clustering layer)."""
    q: np.ndarray
    """Final soft assignments, titles × clusters, rows summing to one."""
    embedding: np.ndarray
    """Final embeddings, titles × embedding width (the trained encoder's)."""
    kmeans_labels: np.ndarray
    """KMeans clusters of the pretrained embedding: DEC's starting point."""
    iterations: int
    stop_reason: str
    """``tol`` (few titles changed cluster) or ``maxiter``."""
    updates: list[dict[str, float | None]] = field(default_factory=list)
    """One record per target update: iteration, loss (None before the first
    training step), fraction changed, clusters."""
    seconds: float = 0.0
    kept_start: bool = False
    """True when the guard restored the KMeans start (see :func:`fit_dec`)."""
    start_silhouette: float | None = None
    """Silhouette of the KMeans start in the pretrained embedding."""
    dec_silhouette: float | None = None
    """Silhouette of DEC's own clusters in its trained embedding, kept or not."""
    dec_moved: float = 0.0
    """Share of titles DEC's own clusters moved from the start, kept or not."""

    @property
    def labels(self) -> np.ndarray:
        return self.q.argmax(axis=1)

    @property
    def moved(self) -> float:
        """Share of titles whose final cluster differs from their KMeans start."""
        return float(np.mean(self.labels != self.kmeans_labels))


def _compile_trainer(
    model: keras.Model,
    autoencoder: keras.Model | None,
    params: DecConfig,
) -> keras.Model:
    """DEC's model with its KL loss, or IDEC's with the reconstruction loss too."""
    optimizer = keras.optimizers.SGD(params.learning_rate, momentum=params.momentum)
    if autoencoder is None:
        model.compile(optimizer, loss="kl_divergence")
        return model
    trainer = keras.Model(model.input, [model.output, autoencoder.output], name="idec")
    trainer.compile(
        optimizer, loss=["kl_divergence", "mse"], loss_weights=[1.0, params.gamma]
    )
    return trainer


def _guard(
    labels: np.ndarray,
    start_labels: np.ndarray,
    start_embedding: np.ndarray,
    embedding: np.ndarray,
    params: DecConfig,
) -> dict[str, Any]:
    """Compare DEC's clusters with its start; say whether to keep the start."""
    dec_moved = float(np.mean(labels != start_labels))
    if dec_moved == 0:
        return {"kept_start": False, "dec_moved": 0.0}
    # Each on at most GUARD_SAMPLE titles, drawn by the seed.
    sample = {"sample_size": min(GUARD_SAMPLE, len(labels)), "seed": params.seed}
    start = silhouette(start_embedding, start_labels, **sample)
    final = silhouette(embedding, labels, **sample)
    worse = final is None or (start is not None and final < start)
    return {
        "kept_start": params.guard == "silhouette" and worse,
        "dec_moved": dec_moved,
        "start_silhouette": start,
        "dec_silhouette": final,
    }


def _final_embedding(
    encoder: keras.Model, x: Any, start_embedding: np.ndarray
) -> np.ndarray:
    """The trained encoder's embedding of every title.

    An encoder without weights (the sentence features' normalisation) cannot
    have moved: its start embedding is the final one, and no second copy of
    every title's embedding is made (a gigabyte for a million titles).
    """
    if encoder.trainable_weights:
        return batching.predict(encoder, x)
    return start_embedding


def _kmeans_start(
    start_embedding: np.ndarray,
    params: DecConfig,
    initial_centroids: Callable[[np.ndarray], np.ndarray] | None,
) -> KMeans:
    """KMeans from ``kmeans_n_init`` k-means++ starts, or once from given centroids."""
    init: Any = "k-means++"
    if initial_centroids is not None:
        init = np.asarray(
            initial_centroids(start_embedding), dtype=start_embedding.dtype
        )
    # copy_x=False: KMeans centres the embedding in place and restores it,
    # instead of copying it (a gigabyte for a million titles).
    return KMeans(
        params.n_clusters,
        init=init,
        n_init=params.kmeans_n_init if initial_centroids is None else 1,
        random_state=params.seed,
        copy_x=False,
    ).fit(start_embedding)


def _start_embedding(
    encoder: keras.Model, x: Any, given: np.ndarray | None
) -> np.ndarray:
    """The encoder's embedding of every title: a copy of ``given``, or a pass.

    A copy, since KMeans centres its input in place (``copy_x=False``) and
    the caller's array may be a read-only memory map (its pages are let go
    once it is copied).
    """
    if given is None:
        return batching.predict(encoder, x)
    if given.ndim != 2 or given.shape[0] != x.shape[0]:
        raise ValueError(
            f"start_embedding has shape {given.shape} but there are "
            f"{x.shape[0]:,} titles: it is another run's embedding."
        )
    embedding = np.array(given, dtype=np.float32, order="C")
    batching.release_mapped_pages(given)
    return embedding


def _training_view(
    model: keras.Model,
    encoder: keras.Model,
    clustering: ClusteringLayer,
    x: Any,
    start_embedding: np.ndarray,
    idec: bool,
) -> tuple[keras.Model, Any]:
    """The model DEC's loop trains and predicts with, and the rows it reads.

    A frozen encoder (no weights: the sentence features' normalisation, the
    UMAP space's neighbour encoder) gives every title its start embedding at
    every step, so the loop can read that embedding through the clustering
    layer alone: neither the target updates nor the steps run the encoder
    again (on the real file the neighbour encoder's pass over 6,131 titles
    took most of DEC's time, and at a million titles every update repeated
    the whole placement). The layer is shared, so ``model`` is trained too.
    """
    if idec or encoder.trainable_weights:
        return model, x
    inputs = keras.Input(shape=start_embedding.shape[1:], name="start_embedding")
    return keras.Model(inputs, clustering(inputs), name="dec_head"), start_embedding


def fit_dec(
    encoder: keras.Model,
    x: FeatureMatrix,
    params: DecConfig,
    *,
    autoencoder: keras.Model | None = None,
    verbose: bool = True,
    on_update: Callable[[dict[str, float]], None] | None = None,
    initial_centroids: Callable[[np.ndarray], np.ndarray] | None = None,
    start_embedding: np.ndarray | None = None,
) -> DECResult:
    """Cluster with DEC, or with IDEC when ``params.variant`` says so.

    KMeans (``kmeans_n_init`` restarts) on the encoder's embedding sets the
    centroids. Every ``update_interval`` iterations the target distribution is
    recomputed from the current soft assignments; training stops when the
    fraction of titles whose cluster changed since the previous update falls
    below ``tol`` (the DEC paper's rule), or after ``maxiter`` iterations.

    With ``params.guard == "silhouette"``, DEC's clusters are kept only when
    their silhouette in DEC's trained embedding is at least that of the KMeans
    start in the pretrained one; otherwise every weight returns to the start
    and ``kept_start`` is set. The clustering objective then never trades the
    structure of the embedding for confidence that nothing supports.

    Args:
        encoder: The pretrained encoder (or :func:`build_feature_embedding`);
            its weights are trained further.
        x: Features, dense or SciPy sparse.
        params: DEC's settings (:class:`DecConfig`; the pipeline builds it
            from its validated ``dec_clustering`` parameters).
        autoencoder: The autoencoder sharing ``encoder``'s layers. With
            ``variant: idec`` and ``gamma > 0`` its reconstruction loss,
            weighted by ``gamma``, is added to the KL divergence (IDEC).
        verbose: Show a progress bar over iterations.
        on_update: Called with each update's record (for logging).
        initial_centroids: Given the start embedding, the centroids KMeans
            starts from (one run of it, instead of ``kmeans_n_init``
            k-means++ starts): how a run follows a previous run's clusters
            (:func:`netflix_dec.continuity.start_centroids`).
        start_embedding: ``encoder``'s embedding of ``x`` when the caller
            already has it (the encoding pipeline's ``embeddings``): DEC then
            starts from a copy of it instead of a pass of the encoder over
            every title, the costliest step left at a million titles.

    Returns:
        The trained model, final soft assignments and the training record.

    Raises:
        ValueError: More clusters than titles, or a ``start_embedding`` of
            other titles.
    """
    n_samples, n_clusters, seed = x.shape[0], params.n_clusters, params.seed
    if n_clusters > n_samples:
        raise ValueError(
            f"n_clusters must be between 2 and the number of titles ({n_samples}), "
            f"got {n_clusters}"
        )
    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    # Sparse features are converted once: the loop reads them at every target
    # update. Dense rows are read from the array as they are (see batches).
    if not isinstance(x, np.ndarray):
        x = batching.as_tensor(x)
    # Memory-mapped features leave memory as predict reads them: KMeans needs
    # the start embedding and, briefly, a second array of its size (scikit-
    # learn's tolerance takes the variance of a centred copy), not them.
    start_embedding = _start_embedding(encoder, x, start_embedding)
    kmeans = _kmeans_start(start_embedding, params, initial_centroids)

    clustering = ClusteringLayer(n_clusters, alpha=params.alpha, name="clustering")
    model = keras.Model(encoder.input, clustering(encoder.output), name="dec")
    clustering.set_weights([kmeans.cluster_centers_.astype(np.float32)])
    idec = autoencoder is not None and params.variant == "idec" and params.gamma > 0
    fitted, rows = _training_view(model, encoder, clustering, x, start_embedding, idec)
    trainer = _compile_trainer(fitted, autoencoder if idec else None, params)
    start_weights = trainer.get_weights()

    maxiter, update_interval = params.maxiter, params.update_interval
    previous = kmeans.labels_
    updates: list[dict[str, float]] = []
    progress = (
        keras.utils.Progbar(maxiter, stateful_metrics=["loss", "changed", "clusters"])
        if verbose
        else None
    )
    # No loss before the first training step (JSON null, not NaN).
    iteration, loss, stop_reason = 0, None, "maxiter"
    while True:
        q = batching.predict(fitted, rows)
        labels = q.argmax(axis=1)
        changed = float(np.mean(labels != previous))
        previous = labels
        record = {
            "iteration": iteration,
            "loss": loss,
            "changed": changed,
            "clusters": int(np.unique(labels).size),
        }
        updates.append(record)
        if on_update is not None:
            on_update(record)
        if progress is not None:
            progress.update(
                iteration,
                [
                    (k, v)
                    for k, v in record.items()
                    if k != "iteration" and v is not None
                ],
            )
        if iteration > 0 and changed < params.tol:
            stop_reason = "tol"
            break
        if iteration >= maxiter:
            break
        steps = min(update_interval, maxiter - iteration)
        targets = (target_distribution(q),)
        history = trainer.fit(
            batching.batches(
                rows,
                params.batch_size,
                targets,
                reconstruct=idec,
                shuffle_seed=seed + iteration,
            ).repeat(),
            steps_per_epoch=steps,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        loss = float(history.history["loss"][-1])
        iteration += steps
    if progress is not None:
        progress.update(
            maxiter if stop_reason == "maxiter" else iteration, finalize=True
        )

    embedding = _final_embedding(encoder, x, start_embedding)
    guard = _guard(labels, kmeans.labels_, start_embedding, embedding, params)
    if guard["kept_start"]:
        trainer.set_weights(start_weights)
        q, embedding = batching.predict(fitted, rows), start_embedding
    return DECResult(
        model=model,
        q=q,
        embedding=embedding,
        kmeans_labels=kmeans.labels_,
        iterations=iteration,
        stop_reason=stop_reason,
        updates=updates,
        seconds=time.perf_counter() - started,
        **guard,
    )
