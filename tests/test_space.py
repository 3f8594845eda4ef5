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


# The word graph (encoding.umap_word_weight): words two descriptions share.

THEMES = ["heist vault robbers", "dragon wizard quest", "alien spaceship crew"]


def _worded(n_per: int = 30, seed: int = 0):
    """Features that barely tell three themes apart, and descriptions that do."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per)
    rows = rng.normal(size=(3, 24))[labels] * 0.15 + rng.normal(size=(len(labels), 24))
    texts = [
        f"A story of {THEMES[g]} and a {w} day."
        for g, w in zip(
            labels,
            rng.choice(["long", "strange", "quiet", "bright"], len(labels)),
            strict=True,
        )
    ]
    return space.unit_rows(rows), texts, labels


def test_word_rows_keep_words_two_descriptions_share_without_stop_words():
    words = space.word_rows(["the heist of the vault", "a vault heist", "a dragon"])
    assert words.shape == (3, 2)  # heist, vault: "dragon" is in one, "the" a stop word
    np.testing.assert_allclose(
        np.asarray(words.multiply(words).sum(axis=1)).ravel(), [1, 1, 0], atol=1e-6
    )
    assert space.word_rows(["one description"]) is None
    assert space.word_rows(["a dragon", "the heist"]) is None  # no word shared


def test_blended_neighbours_without_words_are_the_exact_neighbours():
    rows, texts, _ = _worded()
    exact = space.exact_neighbours(rows, 6, "cosine")
    for words, weight in ((None, 0.3), (space.word_rows(texts), 0.0)):
        got = space.blended_neighbours(rows, words, 6, "cosine", weight)
        np.testing.assert_array_equal(got[0][:, 0], exact[0][:, 0])
        np.testing.assert_allclose(got[1], exact[1], atol=1e-6)


def test_blended_neighbours_follow_the_blended_distance():
    from sklearn.metrics.pairwise import cosine_distances

    rows, texts, labels = _worded()
    words = space.word_rows(texts)
    indices, distances = space.blended_neighbours(rows, words, 5, "cosine", 0.3)
    expected = 0.7 * cosine_distances(rows) + 0.3 * cosine_distances(words)
    np.fill_diagonal(expected, 0)
    assert np.array_equal(indices[:, 0], np.arange(len(rows)))  # itself first
    np.testing.assert_allclose(
        distances, np.take_along_axis(expected, indices, 1), atol=1e-5
    )
    assert (np.diff(distances, axis=1) >= -1e-6).all()
    nearest = np.sort(expected, axis=1)[:, :5]
    np.testing.assert_allclose(distances, nearest, atol=1e-5)
    # The words pull each theme's titles together; the features alone do not.
    alone = space.exact_neighbours(rows, 5, "cosine")[0]
    same = lambda idx: (labels[idx[:, 1:]] == labels[:, None]).mean()  # noqa: E731
    assert same(indices) > 0.85
    assert same(alone) < 0.5
    # Some rows only: the same as those rows of all.
    some = np.array([3, 40, 89])
    part = space.blended_neighbours(rows, words, 5, "cosine", 0.3, queries=some)
    np.testing.assert_array_equal(part[0][:, 0], some)
    np.testing.assert_allclose(part[1], distances[some], atol=1e-6)


def test_the_word_graph_lets_umap_find_the_themes_the_words_tell():
    from sklearn.cluster import KMeans

    rows, texts, labels = _worded()
    words = space.word_rows(texts)
    blended = space.fit_umap(rows, words=words, word_weight=0.3, **SETTINGS)
    alone = space.fit_umap(rows, **SETTINGS)
    score = lambda p: normalized_mutual_info_score(  # noqa: E731
        labels, KMeans(3, n_init=5, random_state=0).fit_predict(p)
    )
    assert score(blended) > 0.9 and score(blended) > score(alone) + 0.2


def test_the_node_needs_one_description_per_row_for_the_word_graph(layout):
    rows = layout[0]
    with pytest.raises(ValueError, match=r"umap_word_weight=0.3 .* got none"):
        nodes.pretrain_autoencoder(rows, _params(umap_word_weight=0.3))
    with pytest.raises(ValueError, match=rf"per feature row \({len(rows)}\), got 3"):
        nodes.pretrain_autoencoder(
            rows, _params(umap_word_weight=0.3), None, ["a", "b", "c"]
        )
    with pytest.raises(Exception, match="umap_word_weight"):
        _params(umap_word_weight=1.0)


def test_the_cached_layout_is_keyed_by_the_words_too(tmp_path: Path, monkeypatch):
    rows, texts, _ = _worded()
    cache = MapCache(filepath=str(tmp_path / "space_cache.npz"))
    params = _params(umap_word_weight=0.3)
    nodes.pretrain_autoencoder(rows, params, cache, texts)
    fits = []
    fit = space.fit_umap
    monkeypatch.setattr(space, "fit_umap", lambda x, **s: fits.append(s) or fit(x, **s))
    nodes.pretrain_autoencoder(rows, params, cache, texts)
    assert fits == []  # same rows, words and settings: looked up
    other = [t.replace("heist", "caper") for t in texts]
    nodes.pretrain_autoencoder(rows, params, cache, other)
    assert len(fits) == 1 and fits[0]["word_weight"] == 0.3
    assert fits[0]["words"] is not None


def test_descriptions_sharing_no_word_leave_the_features_graph(layout, caplog):
    rows = layout[0]
    texts = [f"word{i}" for i in range(len(rows))]  # each word in one description
    plain, _ = nodes.pretrain_autoencoder(rows, _params())
    with caplog.at_level("WARNING"):
        worded, _ = nodes.pretrain_autoencoder(
            rows, _params(umap_word_weight=0.3), None, texts
        )
    assert "No word is shared by two of the 160 descriptions" in caplog.text
    for got, want in zip(worded.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # two fits
