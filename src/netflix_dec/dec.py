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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.cluster import KMeans

logger = logging.getLogger(__name__)

Features = sparse.spmatrix | sparse.sparray | np.ndarray


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
    embedding = keras.layers.Dense(dims[-1], kernel_initializer=init, name="embedding")(
        hidden
    )
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


def _tensor(x: Features | tf.Tensor | tf.SparseTensor) -> tf.Tensor | tf.SparseTensor:
    """Features as a TensorFlow tensor; sparse stays sparse (sorted COO)."""
    if isinstance(x, tf.Tensor | tf.SparseTensor):
        return x
    if sparse.issparse(x):
        coo = sparse.coo_matrix(x, dtype=np.float32)
        indices = np.column_stack([coo.row, coo.col]).astype(np.int64)
        return tf.sparse.reorder(tf.SparseTensor(indices, coo.data, coo.shape))
    return tf.convert_to_tensor(np.asarray(x, dtype=np.float32))


def batches(
    x: Features | tf.Tensor | tf.SparseTensor,
    batch_size: int,
    targets: Sequence[np.ndarray] = (),
    reconstruct: bool = False,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """A tf.data pipeline of feature batches, with targets for training.

    Public because the dec-step benchmark times ``fit`` on exactly this pipeline.
    Dense rows are sliced as they are and serve as their own reconstruction
    target; sparse rows are sliced while sparse and densified one batch at a
    time, only where a batch is a reconstruction target.
    """
    features = _tensor(x)
    outputs = [tf.convert_to_tensor(t, tf.float32) for t in targets]
    densify = reconstruct and isinstance(features, tf.SparseTensor)
    if reconstruct and not densify:
        outputs.append(features)
    if outputs:
        element = (features, outputs[0] if len(outputs) == 1 else tuple(outputs))
    else:
        element = features
    data = tf.data.Dataset.from_tensor_slices(element)
    if shuffle_seed is not None:
        data = data.shuffle(
            features.shape[0], seed=shuffle_seed, reshuffle_each_iteration=True
        )
    data = data.batch(batch_size)
    if densify and outputs:
        data = data.map(lambda rows, p: (rows, (p, tf.sparse.to_dense(rows))))
    elif densify:
        data = data.map(lambda rows: (rows, tf.sparse.to_dense(rows)))
    return data.prefetch(tf.data.AUTOTUNE)


def predict(
    model: keras.Model,
    x: Features | tf.Tensor | tf.SparseTensor,
    batch_size: int = 1024,
) -> np.ndarray:
    """``model.predict`` that accepts sparse features without densifying them."""
    return model.predict(batches(x, batch_size), verbose=0)


def pretrain_autoencoder(
    autoencoder: keras.Model,
    x: Features,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    loss: str = "mse",
    epochs: int = 50,
    batch_size: int = 256,
    seed: int = 0,
    verbose: int | str = "auto",
) -> dict[str, list[float]]:
    """Train the autoencoder to reconstruct its input; return the loss history."""
    _check_positive(epochs=epochs, batch_size=batch_size)
    keras.utils.set_random_seed(seed)
    autoencoder.compile(optimizer=optimizer, loss=loss)
    history = autoencoder.fit(
        batches(x, batch_size, reconstruct=True, shuffle_seed=seed),
        epochs=epochs,
        shuffle=False,  # the tf.data pipeline shuffles
        verbose=verbose,
    )
    return {key: [float(v) for v in values] for key, values in history.history.items()}


@dataclass
class DECResult:
    """What DEC training produced and why it stopped."""

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
    updates: list[dict[str, float]] = field(default_factory=list)
    """One record per target update: iteration, loss, fraction changed, clusters."""
    seconds: float = 0.0

    @property
    def labels(self) -> np.ndarray:
        return self.q.argmax(axis=1)


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < 1
        ):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def validate_dec_arguments(
    n_samples: int,
    n_clusters: int,
    batch_size: int,
    maxiter: int,
    update_interval: int,
    tol: float,
    gamma: float = 0.0,
) -> None:
    """Reject arguments that would waste a training run, naming the bad one."""
    _check_positive(
        batch_size=batch_size, maxiter=maxiter, update_interval=update_interval
    )
    if not 2 <= n_clusters <= n_samples:
        raise ValueError(
            f"n_clusters must be between 2 and the number of titles ({n_samples}), "
            f"got {n_clusters}"
        )
    if not 0.0 <= tol < 1.0:
        raise ValueError(f"tol must be in [0, 1), got {tol}")
    if gamma < 0.0:
        raise ValueError(f"gamma must be non-negative, got {gamma}")


def fit_dec(
    encoder: keras.Model,
    x: Features,
    n_clusters: int,
    *,
    autoencoder: keras.Model | None = None,
    gamma: float = 0.1,
    alpha: float = 1.0,
    batch_size: int = 256,
    maxiter: int = 2000,
    update_interval: int = 140,
    tol: float = 0.001,
    learning_rate: float = 0.01,
    momentum: float = 0.9,
    kmeans_n_init: int = 20,
    seed: int = 0,
    verbose: bool = True,
    on_update: Callable[[dict[str, float]], None] | None = None,
) -> DECResult:
    """Cluster with DEC, or with IDEC when ``autoencoder`` is given.

    KMeans (``kmeans_n_init`` restarts) on the encoder's embedding sets the
    centroids. Every ``update_interval`` iterations the target distribution is
    recomputed from the current soft assignments; training stops when the
    fraction of titles whose cluster changed since the previous update falls
    below ``tol`` (the DEC paper's rule), or after ``maxiter`` iterations.

    Args:
        encoder: The pretrained encoder; its weights are trained further.
        x: Features, dense or SciPy sparse.
        n_clusters: Number of clusters.
        autoencoder: The autoencoder sharing ``encoder``'s layers. When given
            and ``gamma > 0``, its reconstruction loss weighted by ``gamma`` is
            added to the KL divergence (IDEC).
        gamma: Weight of the reconstruction loss in IDEC.
        alpha: Degrees of freedom of the Student's t kernel.
        batch_size: Titles per SGD step.
        maxiter: Upper bound on SGD steps.
        update_interval: SGD steps between target updates (and stop checks).
        tol: Stop when fewer than this fraction of titles changed cluster.
        learning_rate: SGD learning rate.
        momentum: SGD momentum.
        kmeans_n_init: KMeans restarts for the initial centroids.
        seed: Seed of KMeans, batch order and any random op.
        verbose: Show a progress bar over iterations.
        on_update: Called with each update's record (for logging).

    Returns:
        The trained model, final soft assignments and the training record.
    """
    n_samples = x.shape[0]
    validate_dec_arguments(
        n_samples, n_clusters, batch_size, maxiter, update_interval, tol, gamma
    )
    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    # Converted once: the loop reads the features twice per target update.
    x = _tensor(x)
    embedding = predict(encoder, x)
    kmeans = KMeans(n_clusters, n_init=kmeans_n_init, random_state=seed).fit(embedding)

    clustering = ClusteringLayer(n_clusters, alpha=alpha, name="clustering")
    q_output = clustering(encoder.output)
    model = keras.Model(encoder.input, q_output, name="dec")
    # One pass per target update gives both the assignments and the embedding.
    probe = keras.Model(encoder.input, [encoder.output, q_output], name="dec_probe")
    clustering.set_weights([kmeans.cluster_centers_.astype(np.float32)])
    idec = autoencoder is not None and gamma > 0
    optimizer = keras.optimizers.SGD(learning_rate, momentum=momentum)
    if idec:
        trainer = keras.Model(
            encoder.input, [q_output, autoencoder.output], name="idec"
        )
        trainer.compile(
            optimizer, loss=["kl_divergence", "mse"], loss_weights=[1.0, gamma]
        )
    else:
        trainer = model
        trainer.compile(optimizer, loss="kl_divergence")

    previous = kmeans.labels_
    updates: list[dict[str, float]] = []
    progress = (
        keras.utils.Progbar(maxiter, stateful_metrics=["loss", "changed", "clusters"])
        if verbose
        else None
    )
    iteration, loss, stop_reason = 0, float("nan"), "maxiter"
    while True:
        embedding, q = predict(probe, x)
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
                iteration, [(k, v) for k, v in record.items() if k != "iteration"]
            )
        if iteration > 0 and changed < tol:
            stop_reason = "tol"
            break
        if iteration >= maxiter:
            break
        steps = min(update_interval, maxiter - iteration)
        targets = (target_distribution(q),)
        history = trainer.fit(
            batches(
                x, batch_size, targets, reconstruct=idec, shuffle_seed=seed + iteration
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
    return DECResult(
        model=model,
        q=q,
        embedding=embedding,
        kmeans_labels=kmeans.labels_,
        iterations=iteration,
        stop_reason=stop_reason,
        updates=updates,
        seconds=time.perf_counter() - started,
    )
