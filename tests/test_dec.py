"""The DEC library: clustering layer, target distribution, training, saving."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import keras
import numpy as np
import pytest
from kedro_datasets.tensorflow import TensorFlowModelDataset
from scipy import sparse

from netflix_dec import batching, dec
from netflix_dec.params import DecClusteringParams

from .conftest import HAS_SMAPS, resident_kb

# fit_dec reads its settings from a DecConfig built from the dec_clustering
# parameter group, as the pipeline builds it.
PARAMS = {
    "n_clusters": 3,
    "variant": "dec",
    "gamma": 0.1,
    "alpha": 1.0,
    "batch_size": 16,
    "maxiter": 60,
    "update_interval": 20,
    "tol": 0.001,
    "learning_rate": 0.01,
    "momentum": 0.9,
    "kmeans_n_init": 5,
    "guard": "none",
    "silhouette_sample": 1000,
    "top_words": 3,
    "examples": 2,
    "seed": 0,
}


def dec_params(**changes) -> dec.DecConfig:
    return dec.DecConfig.of(DecClusteringParams(**(PARAMS | changes)))


def _blobs(
    n_per: int = 40, centers: int = 3, dim: int = 12, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=4.0, size=(centers, dim))
    labels = np.repeat(np.arange(centers), n_per)
    return (means[labels] + rng.normal(size=(len(labels), dim))).astype(
        np.float32
    ), labels


@pytest.fixture(scope="module")
def pretrained() -> tuple[keras.Model, keras.Model, np.ndarray, np.ndarray]:
    x, labels = _blobs()
    autoencoder, encoder = dec.build_autoencoder([12, 16, 4], seed=1)
    dec.pretrain_autoencoder(
        autoencoder, x, epochs=30, batch_size=16, seed=1, verbose=0
    )
    return autoencoder, encoder, x, labels


def test_soft_assignments_follow_students_t_and_sum_to_one():
    layer = dec.ClusteringLayer(3, alpha=1.0)
    z = np.array([[0.0, 0.0], [2.5, 2.0], [-1.0, 5.0], [3.0, 3.0]], dtype=np.float32)
    layer.build(z.shape)
    centres = np.array([[0.0, 0.0], [3.0, 3.0], [-1.0, 4.0]], dtype=np.float32)
    layer.set_weights([centres])
    q = keras.ops.convert_to_numpy(layer(z))
    expected = 1.0 / (1.0 + ((z[:, None, :] - centres[None]) ** 2).sum(axis=2))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(q, expected, rtol=1e-5)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-6)
    assert q.argmax(axis=1).tolist() == [0, 1, 2, 1]


def test_a_small_alpha_gives_heavier_tails():
    z = np.array([[1.0, 0.0]], dtype=np.float32)
    centres = np.array([[0.0, 0.0], [3.0, 0.0]], dtype=np.float32)
    q = {}
    for alpha in (0.5, 10.0):
        layer = dec.ClusteringLayer(2, alpha=alpha)
        layer.build(z.shape)
        layer.set_weights([centres])
        q[alpha] = keras.ops.convert_to_numpy(layer(z))[0, 0]
    # Heavy tails leave more mass on the far centroid.
    assert q[10.0] > q[0.5] > 0.5


def test_target_distribution_sharpens_and_normalises():
    q = np.array([[0.6, 0.4], [0.3, 0.7], [0.55, 0.45]])
    p = dec.target_distribution(q)
    weight = q**2 / q.sum(axis=0)
    np.testing.assert_allclose(p, weight / weight.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p.max(axis=1) > q.max(axis=1)).all()
    assert (p.argmax(axis=1) == q.argmax(axis=1)).all()


def test_autoencoder_mirrors_dims_and_shares_the_encoder():
    autoencoder, encoder = dec.build_autoencoder([30, 8, 6, 2], seed=0)
    widths = [
        layer.units
        for layer in autoencoder.layers
        if isinstance(layer, keras.layers.Dense)
    ]
    assert widths == [8, 6, 2, 6, 8, 30]
    assert encoder.output.shape[-1] == 2
    assert autoencoder.get_layer("embedding") is encoder.get_layer("embedding")


@pytest.mark.parametrize("dims", [[10], [10, 0, 2]])
def test_autoencoder_rejects_bad_dims(dims):
    with pytest.raises(ValueError, match="dims must hold at least two positive widths"):
        dec.build_autoencoder(dims)


def test_sparse_features_train_without_densifying():
    x = sparse.random(
        64, 300, density=0.02, format="csr", dtype=np.float32, random_state=0
    )
    autoencoder, encoder = dec.build_autoencoder(
        [300, 16, 4], sparse_input=True, seed=0
    )
    history = dec.pretrain_autoencoder(
        autoencoder, x, epochs=2, batch_size=16, verbose=0
    )
    assert len(history["loss"]) == 2
    assert batching.predict(encoder, x).shape == (64, 4)


def test_pretraining_repeats_with_a_seed():
    x, _ = _blobs(n_per=10)
    embeddings = []
    for _ in range(2):
        autoencoder, encoder = dec.build_autoencoder([12, 8, 3], seed=7)
        dec.pretrain_autoencoder(
            autoencoder, x, epochs=3, batch_size=8, seed=7, verbose=0
        )
        embeddings.append(batching.predict(encoder, x))
    # Two computations: equal up to rounding (threads may sum in another order).
    np.testing.assert_allclose(embeddings[0], embeddings[1], rtol=1e-5, atol=1e-6)


def test_pretraining_stops_once_the_loss_stops_improving():
    x, _ = _blobs(n_per=10)
    frozen = keras.optimizers.SGD(learning_rate=0.0)  # the loss cannot improve
    autoencoder, _ = dec.build_autoencoder([12, 8, 3], seed=7)
    history = dec.pretrain_autoencoder(
        autoencoder, x, optimizer=frozen, epochs=20, batch_size=8, verbose=0, patience=2
    )
    assert len(history["loss"]) == 3  # the first epoch, then two without improvement
    autoencoder, _ = dec.build_autoencoder([12, 8, 3], seed=7)
    history = dec.pretrain_autoencoder(
        autoencoder, x, epochs=6, batch_size=8, verbose=0, patience=None
    )
    assert len(history["loss"]) == 6


def _copy(model: keras.Model) -> keras.Model:
    """A copy with the same weights: fit_dec trains the encoder it is given, and
    the pretrained models are shared by the whole module."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _fit(pretrained, **changes) -> dec.DECResult:
    """fit_dec on a copy of the shared pretrained encoder, 3 clusters, batch 16."""
    _, encoder, x, _ = pretrained
    return dec.fit_dec(_copy(encoder), x, dec_params(**changes), verbose=False)


def test_dec_recovers_separated_clusters(pretrained):
    labels = pretrained[3]
    result = _fit(pretrained, maxiter=60, update_interval=20, tol=0.0)
    x = pretrained[2]
    assert result.q.shape == (len(x), 3)
    np.testing.assert_allclose(result.q.sum(axis=1), 1.0, rtol=1e-5)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, result.labels) > 0.9
    assert result.stop_reason == "maxiter" and result.iterations == 60
    assert [u["iteration"] for u in result.updates] == [0, 20, 40, 60]


def test_stop_rule_fires_when_few_titles_change(pretrained):
    result = _fit(pretrained, maxiter=1000, update_interval=10, tol=0.5)
    # After the first 10 steps, far fewer than half of the points move.
    assert result.stop_reason == "tol"
    assert result.iterations == 10
    assert result.updates[-1]["changed"] < 0.5


def test_idec_keeps_training_the_decoder(pretrained):
    autoencoder, _, x, _ = pretrained
    autoencoder = _copy(autoencoder)
    encoder = keras.Model(autoencoder.input, autoencoder.get_layer("embedding").output)
    before = autoencoder.get_layer("reconstruction").get_weights()[0].copy()
    dec.fit_dec(
        encoder,
        x,
        dec_params(variant="idec", gamma=0.5, maxiter=20, update_interval=10, tol=0),
        autoencoder=autoencoder,
        verbose=False,
    )
    assert not np.allclose(
        autoencoder.get_layer("reconstruction").get_weights()[0], before
    )


def test_dec_model_saves_and_reloads_in_safe_mode(pretrained, tmp_path: Path):
    x = pretrained[2]
    result = _fit(pretrained, maxiter=10, update_interval=10)
    dataset = TensorFlowModelDataset(filepath=str(tmp_path / "dec.keras"))
    dataset.save(result.model)
    reloaded = dataset.load()
    assert isinstance(reloaded.get_layer("clustering"), dec.ClusteringLayer)
    np.testing.assert_allclose(
        batching.predict(reloaded, x), result.q, rtol=1e-5, atol=1e-6
    )


def test_more_clusters_than_titles_fails_before_training(pretrained):
    _, encoder, x, _ = pretrained
    with pytest.raises(ValueError, match=r"number of titles \(120\), got 121"):
        dec.fit_dec(encoder, x, dec_params(n_clusters=121), verbose=False)


def test_the_feature_embedding_is_the_normalised_features():
    x, _ = _blobs(n_per=5)
    embedding = dec.build_feature_embedding(x.shape[1])
    z = batching.predict(embedding, x)
    np.testing.assert_allclose(
        z, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5
    )
    assert not embedding.trainable_weights and not dec.has_decoder(embedding)


def test_dec_on_the_features_trains_only_the_centroids_and_reloads(tmp_path: Path):
    x, labels = _blobs()
    result = dec.fit_dec(
        dec.build_feature_embedding(x.shape[1]), x, dec_params(), verbose=False
    )
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, result.labels) > 0.9
    assert [w.name for w in result.model.trainable_weights] == ["clusters"]
    dataset = TensorFlowModelDataset(filepath=str(tmp_path / "dec.keras"))
    dataset.save(result.model)
    np.testing.assert_allclose(
        batching.predict(dataset.load(), x), result.q, rtol=1e-5, atol=1e-6
    )


def _overlapping() -> np.ndarray:
    """Two touching blobs: a high learning rate lets DEC redraw the border."""
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(0, 1, (60, 4)), rng.normal(1.5, 1, (60, 4))]).astype(
        np.float32
    )


def test_a_frozen_encoder_is_run_once_and_dec_trains_the_same_centroids(
    monkeypatch,
):
    """The loop reads the start embedding, not the encoder: same result, less work."""
    x = _overlapping()
    settings = dec_params(n_clusters=4, learning_rate=5.0, tol=0.0, maxiter=40)
    head = dec.fit_dec(
        dec.build_feature_embedding(x.shape[1]), x, settings, verbose=False
    )
    # The loop as it was: every target update and step through the encoder.
    monkeypatch.setattr(dec, "_training_view", lambda model, *_: (model, x))
    full = dec.fit_dec(
        dec.build_feature_embedding(x.shape[1]), x, settings, verbose=False
    )
    assert head.dec_moved > 0  # DEC moved titles, so the training itself is compared
    np.testing.assert_array_equal(head.labels, full.labels)
    np.testing.assert_allclose(head.q, full.q, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        head.model.get_layer("clustering").get_weights()[0],
        full.model.get_layer("clustering").get_weights()[0],
        rtol=1e-5,
        atol=1e-6,
    )
    # The returned model still maps features, and holds the trained centroids.
    np.testing.assert_allclose(
        batching.predict(head.model, x), head.q, rtol=1e-5, atol=1e-6
    )


def test_only_a_frozen_encoder_is_skipped_in_the_loop(pretrained):
    _, encoder, x, _ = pretrained
    frozen = dec.build_feature_embedding(x.shape[1])
    for model, expect_head in ((frozen, True), (_copy(encoder), False)):
        clustering = dec.ClusteringLayer(3, name="clustering")
        whole = keras.Model(model.input, clustering(model.output))
        start = batching.predict(model, x)
        fitted, rows = dec._training_view(whole, model, clustering, x, start, False)
        assert (fitted is not whole) == expect_head
        assert rows is (start if expect_head else x)
    fitted, rows = dec._training_view(whole, frozen, clustering, x, start, True)
    assert fitted is whole and rows is x  # IDEC reconstructs the features


def test_the_guard_keeps_the_start_when_dec_separates_worse():
    x = _overlapping()
    arguments = {"n_clusters": 4, "learning_rate": 5.0, "tol": 0.0, "maxiter": 40}
    unguarded = dec.fit_dec(
        dec.build_feature_embedding(4), x, dec_params(**arguments), verbose=False
    )
    guarded = dec.fit_dec(
        dec.build_feature_embedding(4),
        x,
        dec_params(**arguments, guard="silhouette"),
        verbose=False,
    )
    # The same run both times; only what is returned differs.
    assert unguarded.dec_moved == guarded.dec_moved > 0
    assert unguarded.dec_silhouette < unguarded.start_silhouette
    assert not unguarded.kept_start and unguarded.moved > 0
    assert guarded.kept_start and guarded.moved == 0
    np.testing.assert_array_equal(guarded.labels, guarded.kmeans_labels)


def test_the_guard_keeps_dec_when_it_separates_at_least_as_well(pretrained):
    result = _fit(pretrained, guard="silhouette", tol=0.0)
    assert not result.kept_start
    if result.dec_moved > 0:
        assert result.dec_silhouette >= result.start_silhouette
        assert result.moved == result.dec_moved


def test_predict_fills_one_array_per_output_and_matches_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2500, 6)).astype(np.float32)  # 2 full batches and a part
    autoencoder, encoder = dec.build_autoencoder([6, 4, 2])
    both = keras.Model(autoencoder.input, [encoder.output, autoencoder.output])
    embedding, reconstruction = batching.predict(both, x)
    assert embedding.shape == (2500, 2) and reconstruction.shape == (2500, 6)
    np.testing.assert_allclose(
        embedding, encoder.predict(x, batch_size=1024, verbose=0), atol=1e-6
    )
    # Sparse rows take Keras' own path and agree with the dense ones.
    np.testing.assert_allclose(
        batching.predict(encoder, sparse.csr_matrix(x)), embedding, atol=1e-6
    )


def test_batches_gather_every_row_once_per_pass_in_a_seeded_order():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    p = np.arange(10, dtype=np.float32)[:, None]

    def rows(seed):
        data = batching.batches(x, 4, (p,), reconstruct=True, shuffle_seed=seed)
        return [(f, t, r) for f, (t, r) in data.as_numpy_iterator()]

    first, again = rows(1), rows(1)
    features = np.concatenate([f for f, _, _ in first])
    assert sorted(features[:, 0].tolist()) == list(range(0, 20, 2))  # each row once
    assert features[:, 0].tolist() != list(range(0, 20, 2))  # shuffled
    for f, t, r in first:  # targets travel with their rows; rows rebuild themselves
        np.testing.assert_array_equal(t[:, 0], f[:, 0] / 2)
        np.testing.assert_array_equal(r, f)
    np.testing.assert_array_equal(features, np.concatenate([f for f, _, _ in again]))


def test_gathered_rows_are_freed_with_their_dataset():
    # TensorFlow keeps a dataset's gathering function after the dataset is
    # gone; the rows it gathers from must not stay in memory with it.
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    targets = np.ones((32, 2), dtype=np.float32)
    freed = [weakref.ref(x), weakref.ref(targets)]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    data = batching.batches(x, 8, (targets,), shuffle_seed=0)
    model.fit(data.repeat(), steps_per_epoch=4, epochs=1, shuffle=False, verbose=0)
    assert sum(len(batch) for batch, _ in data.as_numpy_iterator()) == 32
    del x, targets, data
    gc.collect()
    assert [ref() for ref in freed] == [None, None]


@pytest.mark.skipif(not HAS_SMAPS, reason="needs Linux /proc/self/smaps")
def test_released_pages_of_a_shared_map_leave_memory_and_the_data_stays(
    tmp_path: Path,
):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(256 * 1024, dtype=np.float32).reshape(-1, 64))
    mapped = np.load(path, mmap_mode="r")
    total = float(mapped.sum())  # every page resident
    assert resident_kb(path) >= 1000
    assert batching.release_mapped_pages(mapped)
    assert resident_kb(path) == 0
    assert float(mapped.sum()) == total

    # A copy-on-write map keeps its pages (and its changes); arrays in memory
    # have none to release.
    private = np.load(path, mmap_mode="c")
    private[0, 0] = -1.0
    assert not batching.release_mapped_pages(private) and private[0, 0] == -1.0
    assert not batching.release_mapped_pages(np.ones(4))


@pytest.mark.skipif(not HAS_SMAPS, reason="needs Linux /proc/self/smaps")
def test_predict_releases_a_mapped_input_as_it_reads_it(tmp_path: Path, monkeypatch):
    x = np.random.default_rng(0).normal(size=(5000, 64)).astype(np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    encoder = dec.build_feature_embedding(64)
    # Release every batch of 256 rows (64 kB): at most a batch resident.
    monkeypatch.setattr(batching, "RELEASE_BYTES", 1)
    resident = []
    real_step = batching._predict_step(encoder, (64,))

    def step(rows):
        resident.append(resident_kb(path))
        return real_step(rows)

    monkeypatch.setattr(batching, "_predict_step", lambda model, shape: step)
    embedding = batching.predict(encoder, mapped, batch_size=256)
    np.testing.assert_allclose(
        embedding, batching.predict(encoder, x, batch_size=256), rtol=1e-6, atol=1e-7
    )
    assert max(resident) <= 2 * 256 * 64 * 4 // 1024 + 64  # a batch, give or take
    assert resident_kb(path) == 0


def test_nothing_is_released_where_the_system_cannot(tmp_path: Path, monkeypatch):
    path = tmp_path / "x.npy"
    np.save(path, np.ones((8, 4), dtype=np.float32))
    monkeypatch.delattr("mmap.MADV_DONTNEED")
    mapped = np.load(path, mmap_mode="r")
    assert not batching.release_mapped_pages(mapped)
    # 1 / sqrt(4), computed with rsqrt, which rounds differently across CPUs.
    np.testing.assert_allclose(
        batching.predict(dec.build_feature_embedding(4), mapped), 0.5, rtol=1e-6
    )


def test_a_model_predicted_on_is_freed_with_its_compiled_step():
    import gc
    import weakref

    model = dec.build_feature_embedding(4)
    rows = np.ones((3, 4), dtype=np.float32)
    first = batching.predict(model, rows)
    assert model in batching._PREDICT_STEPS
    # The cached step is reused, and computes what the model does.
    np.testing.assert_allclose(
        batching.predict(model, rows), first, rtol=1e-6, atol=1e-7
    )
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_dec_is_a_library_that_imports_no_pipeline_schema_nor_kedro():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(dec))
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith("kedro")}
    assert "netflix_dec.params" not in imported
    # Its config is built from the pipeline's parameters by attribute.
    config = dec_params(n_clusters=4)
    assert isinstance(config, dec.DecConfig) and config.n_clusters == 4
