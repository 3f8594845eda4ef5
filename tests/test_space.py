"""The UMAP clustering space and its Keras encoder (netflix_dec.space)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from netflix_dec import space
from netflix_dec.params import EncodingParams
from netflix_dec.pipelines.encoding import nodes
from netflix_dec.storage.caches import MapCache

SETTINGS = {
    "n_components": 3,
    "n_neighbors": 8,
    "min_dist": 0.0,
    "metric": "cosine",
    "n_epochs": 60,
    "seed": 0,
}


def planted(n_per: int = 40, n_groups: int = 4, width: int = 24, seed: int = 0):
    """Rows around ``n_groups`` random directions, and their group."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, width))
    labels = np.repeat(np.arange(n_groups), n_per)
    rows = centres[labels] + 0.35 * rng.normal(size=(len(labels), width))
    return rows.astype(np.float32), labels


@pytest.fixture(scope="module")
def layout():
    rows, labels = planted()
    positions = space.fit_umap(space.unit_rows(rows), **SETTINGS)
    return rows, labels, positions


def test_umap_keeps_planted_groups_apart(layout):
    from sklearn.cluster import KMeans

    _, labels, positions = layout
    assert positions.shape == (len(labels), 3) and positions.dtype == np.float32
    found = KMeans(4, n_init=5, random_state=0).fit_predict(positions)
    assert normalized_mutual_info_score(labels, found) > 0.95


def test_a_seed_repeats_the_layout(layout):
    rows, _, positions = layout
    again = space.fit_umap(space.unit_rows(rows), **SETTINGS)
    np.testing.assert_allclose(again, positions, rtol=0, atol=1e-4)


def test_too_few_titles_for_the_neighbours_is_a_clear_error():
    with pytest.raises(ValueError, match="umap_neighbors=8 needs more titles"):
        space.fit_umap(np.eye(6, dtype=np.float32), **SETTINGS)


def test_encoder_puts_fitted_titles_at_their_position(layout):
    rows, _, positions = layout
    encoder = space.build_space_encoder(rows, positions, k=8, temperature=0.05)
    placed = encoder.predict(rows, verbose=0)
    # Nearest first with weight 1; the next neighbours weigh exp(-(1 - s)/t).
    spread = positions.std(axis=0).max()
    assert np.abs(placed - positions).max() < 0.5 * spread
    assert np.median(np.abs(placed - positions)) < 0.05 * spread


def test_encoder_rows_do_not_depend_on_batch_or_order(layout):
    rows, _, positions = layout
    encoder = space.build_space_encoder(rows, positions, k=8, temperature=0.05)
    whole = encoder.predict(rows, verbose=0, batch_size=1000)
    order = np.random.default_rng(1).permutation(len(rows))
    shuffled = encoder.predict(rows[order], verbose=0, batch_size=7)
    np.testing.assert_allclose(shuffled, whole[order], rtol=0, atol=1e-5)
    one = encoder.predict(rows[5:6], verbose=0)
    np.testing.assert_allclose(one[0], whole[5], rtol=0, atol=1e-5)


def test_encoder_survives_saving(layout, tmp_path: Path):
    rows, _, positions = layout
    encoder = space.build_space_encoder(rows, positions, k=8, temperature=0.05)
    encoder.save(tmp_path / "space.keras")
    loaded = keras.models.load_model(tmp_path / "space.keras")
    np.testing.assert_array_equal(
        loaded.predict(rows, verbose=0), encoder.predict(rows, verbose=0)
    )
    assert not loaded.trainable_weights  # DEC trains its centroids only


def test_key_changes_with_rows_and_settings(layout):
    rows = layout[0]
    key = space.space_key(rows, SETTINGS)
    assert key == space.space_key(rows.copy(), SETTINGS)
    assert key != space.space_key(rows, SETTINGS | {"seed": 1})
    changed = rows.copy()
    changed[0, 0] += 1
    assert key != space.space_key(changed, SETTINGS)


def test_large_catalogues_fit_a_sample():
    from netflix_dec.evaluation import sample_rows

    assert np.array_equal(sample_rows(50, 100, 0), np.arange(50))
    sample = sample_rows(1000, 100, 0)
    assert len(sample) == 100 and len(np.unique(sample)) == 100
    assert np.array_equal(sample, np.sort(sample))


def _params(**changes) -> EncodingParams:
    base = {
        "features": "sentence",
        "embedding": "auto",
        "max_words": 300,
        "dims": [None, 16, 4],
        "activation": "relu",
        "optimizer": "adam",
        "learning_rate": 0.001,
        "loss": "mse",
        "epochs": 2,
        "batch_size": 32,
        "sentence_batch_size": 16,
        "umap_components": 3,
        "umap_neighbors": 8,
        "umap_epochs": 60,
        "seed": 0,
    }
    return EncodingParams(**(base | changes))


def test_the_node_reuses_a_cached_layout(layout, tmp_path: Path, monkeypatch):
    rows = layout[0]
    cache = MapCache(filepath=str(tmp_path / "space_cache.npz"))
    first, history = nodes.pretrain_autoencoder(rows, _params(), cache)
    assert history == {"loss": []}
    fits = []

    def fit(x, **settings):
        fits.append(settings["seed"])
        return np.zeros((len(x), settings["n_components"]), np.float32)

    monkeypatch.setattr(space, "fit_umap", fit)
    second, _ = nodes.pretrain_autoencoder(rows, _params(), cache)
    assert fits == []
    np.testing.assert_array_equal(
        nodes.embed_titles(first, rows), nodes.embed_titles(second, rows)
    )
    # Another seed is another layout: fitted, not looked up.
    nodes.pretrain_autoencoder(rows, _params(seed=1), cache)
    assert fits == [1]


def test_umap_settings_are_validated():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="umap_metric"):
        _params(umap_metric="manhattan")
    with pytest.raises(ValidationError, match="umap_components"):
        _params(umap_components=1)


def test_dec_model_reassigns_every_training_title_in_any_batch(layout):
    from netflix_dec import batching
    from netflix_dec.params import DecClusteringParams
    from netflix_dec.pipelines.dec_clustering import nodes as dec_nodes

    rows, labels, _ = layout
    encoder, _ = nodes.pretrain_autoencoder(rows, _params())
    clustering = DecClusteringParams(
        n_clusters=4,
        variant="idec",
        gamma=0.1,
        alpha=1.0,
        batch_size=32,
        maxiter=100,
        update_interval=20,
        tol=0.001,
        learning_rate=0.01,
        momentum=0.9,
        kmeans_n_init=5,
        guard="silhouette",
        silhouette_sample=1000,
        top_words=3,
        examples=2,
        seed=0,
    )
    model, q, embedding, start, _ = dec_nodes.train_dec(encoder, rows, clustering)
    assert normalized_mutual_info_score(labels, q.argmax(axis=1)) > 0.95
    np.testing.assert_allclose(embedding, nodes.embed_titles(encoder, rows), atol=1e-5)
    order = np.random.default_rng(2).permutation(len(rows))
    again = batching.predict(model, rows[order], batch_size=7).argmax(axis=1)
    assert np.array_equal(again, q.argmax(axis=1)[order])


def test_a_catalogue_smaller_than_the_neighbourhood_uses_every_title(layout):
    rows = layout[0][::16]  # 10 titles, umap_neighbors 15
    encoder, _ = nodes.pretrain_autoencoder(rows, _params(umap_neighbors=15))
    assert encoder.get_layer("embedding").k == 9
    assert np.isfinite(nodes.embed_titles(encoder, rows)).all()
