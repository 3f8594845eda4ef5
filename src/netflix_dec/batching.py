"""Feeding a Keras model rows without copying them: tf.data batches and predict.

No Kedro, no DEC: how rows reach a model and how its outputs come back, for
DEC's training loop (:mod:`netflix_dec.dec`) and for every node that embeds
or assigns titles. Sparse features stay sparse until one batch is densified;
dense rows are gathered batch by batch from the array they live in (through a
weak reference, so a finished dataset frees them); :func:`predict` writes into
arrays allocated once, through one compiled step per model.

Memory plumbing, beside :mod:`netflix_dec.memory`'s heap trimming:
:func:`release_mapped_pages` and ``RELEASE_BYTES`` (handing a memory map's
pages back while it is read) and the weakly held step cache
(``_PREDICT_STEPS``). The rest is batching.
"""

from __future__ import annotations

import mmap
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from scipy import sparse

from netflix_dec.encoders import FeatureMatrix


def as_tensor(
    x: FeatureMatrix | tf.Tensor | tf.SparseTensor,
) -> tf.Tensor | tf.SparseTensor:
    """Features as a TensorFlow tensor; sparse stays sparse (sorted COO)."""
    if isinstance(x, tf.Tensor | tf.SparseTensor):
        return x
    if sparse.issparse(x):
        coo = sparse.coo_matrix(x, dtype=np.float32)
        indices = np.column_stack([coo.row, coo.col]).astype(np.int64)
        return tf.sparse.reorder(tf.SparseTensor(indices, coo.data, coo.shape))
    return tf.convert_to_tensor(np.asarray(x, dtype=np.float32))


def batches(
    x: FeatureMatrix | tf.Tensor | tf.SparseTensor,
    batch_size: int,
    targets: Sequence[np.ndarray] = (),
    reconstruct: bool = False,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """A tf.data pipeline of feature batches, with targets for training.

    Public because the dec-step benchmark times ``fit`` on exactly this pipeline
    (:func:`netflix_dec.dec.fit_dec` trains on it).
    Dense NumPy rows stay where they are: each batch gathers its rows from the
    array, because a TensorFlow copy of all of them would cost twice their size
    (two gigabytes for a million titles' features). Sparse rows are sliced
    while sparse and densified one batch at a time, only where a batch is a
    reconstruction target. Dense rows serve as their own reconstruction target.
    """
    if isinstance(x, np.ndarray):
        return _gathered_batches(x, batch_size, targets, reconstruct, shuffle_seed)
    features = as_tensor(x)
    outputs = [tf.convert_to_tensor(t, tf.float32) for t in targets]
    densify = reconstruct and isinstance(features, tf.SparseTensor)
    if reconstruct and not densify:
        outputs.append(features)
    data = tf.data.Dataset.from_tensor_slices(_element(features, outputs))
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


def _element(features: Any, outputs: Sequence[Any]) -> Any:
    """Keras' (inputs, targets) structure: one target bare, several a tuple."""
    if not outputs:
        return features
    return features, outputs[0] if len(outputs) == 1 else tuple(outputs)


def _gathered_batches(
    x: np.ndarray,
    batch_size: int,
    targets: Sequence[np.ndarray],
    reconstruct: bool,
    shuffle_seed: int | None,
) -> tf.data.Dataset:
    """Batches of row indices (shuffled like rows would be) gathered from ``x``.

    TensorFlow keeps the gathering function after the dataset is gone, so it
    holds the rows only through a weak reference; the dataset holds them
    (strongly) for as long as it lives. Otherwise every DEC update's targets
    and the features themselves stayed in memory until the process ended (a
    gigabyte of features, 56 MB of targets per update, at 700,000 titles).
    """
    rows_of = _Rows([np.asarray(a, dtype=np.float32) for a in (x, *targets)])
    arrays_of = weakref.ref(rows_of)
    widths = [a.shape[1:] for a in rows_of.arrays]
    n_rows = rows_of.arrays[0].shape[0]
    indices = tf.data.Dataset.range(n_rows)
    if shuffle_seed is not None:
        indices = indices.shuffle(
            n_rows, seed=shuffle_seed, reshuffle_each_iteration=True
        )

    def gather(rows: tf.Tensor) -> Any:
        taken = tf.numpy_function(
            lambda picked: tuple(a[picked] for a in arrays_of().arrays),
            [rows],
            [tf.float32] * len(widths),
            stateful=False,
        )
        for tensor, width in zip(taken, widths, strict=True):
            tensor.set_shape((None, *width))
        features, outputs = taken[0], list(taken[1:])
        if reconstruct:
            outputs.append(features)
        return _element(features, outputs)

    data = indices.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)
    data._gathered_rows = rows_of
    return data


@dataclass
class _Rows:
    """The arrays a gathering dataset reads (see :func:`_gathered_batches`)."""

    arrays: list[np.ndarray]


def predict(
    model: keras.Model,
    x: FeatureMatrix | tf.Tensor | tf.SparseTensor,
    batch_size: int = 1024,
) -> np.ndarray | list[np.ndarray]:
    """``model.predict`` that accepts sparse features without densifying them.

    Dense rows are predicted into arrays allocated once: Keras' ``predict``
    keeps every batch's output and concatenates them, which held three times
    the result's size (1.4 GB for 300,000 titles' 384-d embeddings) and left
    most of it resident after returning. Rows of a memory map are released
    as they are read (every ``RELEASE_BYTES``, see
    :func:`release_mapped_pages`), so the input and the output are never
    both resident whole.
    """
    if not isinstance(x, np.ndarray) or x.shape[0] == 0:
        return model.predict(batches(x, batch_size), verbose=0)
    rows = np.asarray(x, dtype=np.float32)
    step = _predict_step(model, rows.shape[1:])
    outputs: list[np.ndarray] = []
    mapped = release_mapped_pages(x)
    release_every = max(1, RELEASE_BYTES // max(rows[0].nbytes * batch_size, 1))
    for index, start in enumerate(range(0, rows.shape[0], batch_size)):
        if mapped and index and index % release_every == 0:
            release_mapped_pages(x)
        result = step(rows[start : start + batch_size])
        parts = list(result) if isinstance(result, list | tuple) else [result]
        if not outputs:
            outputs = [
                np.empty((rows.shape[0], *part.shape[1:]), part.dtype.as_numpy_dtype)
                for part in parts
            ]
        for output, part in zip(outputs, parts, strict=True):
            output[start : start + part.shape[0]] = part.numpy()
    if mapped:
        release_mapped_pages(x)
    return outputs[0] if len(outputs) == 1 else outputs


RELEASE_BYTES = 64 * 2**20
"""How much of a memory-mapped input :func:`predict` reads between releases."""


def release_mapped_pages(x: Any) -> bool:
    """Let the pages of a memory-mapped array leave this process's memory.

    The data stay in the file (and usually the page cache): the next read of
    a row maps it in again. Only shared maps (modes ``r``, ``r+``, ``w+``) are
    released; a copy-on-write map (``c``) would lose its changes.

    Returns:
        Whether ``x`` was a shared memory map whose pages were released.
    """
    if not isinstance(x, np.memmap) or x.mode not in ("r", "r+", "w+"):
        return False
    if not hasattr(mmap, "MADV_DONTNEED"):  # Windows: nothing to release with
        return False
    base = x
    while isinstance(base, np.ndarray):
        base = base.base
    if not isinstance(base, mmap.mmap):
        return False
    base.madvise(mmap.MADV_DONTNEED)
    return True


_PREDICT_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _predict_step(model: keras.Model, row_shape: tuple[int, ...]) -> Callable:
    """One compiled inference step per model, traced once for any batch size.

    The step reaches its model through a weak reference: a step holding the
    model itself would keep its own key alive, and no model predicted on
    would ever leave :data:`_PREDICT_STEPS` (or memory).
    """
    key = (row_shape,)
    steps = _PREDICT_STEPS.setdefault(model, {})
    if key not in steps:
        spec = tf.TensorSpec((None, *row_shape), tf.float32)
        model_ref = weakref.ref(model)
        steps[key] = tf.function(
            lambda rows: model_ref()(rows, training=False), input_signature=[spec]
        )
    return steps[key]
