"""encoding nodes: checks before training, repeatability, saved models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro_datasets.tensorflow import TensorFlowModelDataset
from pydantic import ValidationError
from scipy import sparse

from netflix_dec.encoders.words import EmptyVocabularyError
from netflix_dec.params import EncodingParams
from netflix_dec.pipelines.encoding import nodes

BASE = {
    "features": "tfidf",
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
    "shards": 1,
    "seed": 3,
}


def params(**changes) -> EncodingParams:
    return EncodingParams(**(BASE | changes))


@pytest.fixture(scope="module")
def titles(sample_titles) -> pd.DataFrame:
    return sample_titles.dropna(subset=["description"]).head(120).reset_index(drop=True)


def test_no_descriptions_is_a_clear_error():
    blank = pd.DataFrame({"description": ["", "   ", None]})
    with pytest.raises(EmptyVocabularyError, match="none has a non-blank description"):
        nodes.fit_text_encoder(blank, params())


def test_an_empty_vocabulary_is_a_clear_error():
    punctuation = pd.DataFrame({"description": ["!!!", "?!", "..."]})
    with pytest.raises(EmptyVocabularyError, match="hold no token"):
        nodes.fit_text_encoder(punctuation, params())


@pytest.fixture(scope="module")
def tfidf(titles):
    """The text encoder state and TF-IDF features of ``titles`` (shared)."""
    state = nodes.fit_text_encoder(titles, params())
    return state, nodes.encode_descriptions(titles, state, None, params())


def test_dims_must_start_with_the_feature_width(tfidf):
    _, features = tfidf
    with pytest.raises(
        ValueError,
        match=r"encoding.dims\[0\] is 99 but the tfidf features have 300 columns",
    ):
        nodes.pretrain_autoencoder(features, params(dims=[99, 16, 4]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"dims": [None, None, 4]}, "only dims"),
        ({"features": "bag"}, "features"),
        ({"featres": "tfidf"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_are_rejected_before_training(changes, message):
    with pytest.raises(ValidationError, match=message):
        params(**changes)


def test_tfidf_features_stay_sparse(titles, tfidf):
    _, features = tfidf
    assert sparse.issparse(features)
    assert features.shape == (len(titles), 300)


def test_sequence_features_follow_the_notebook(titles):
    state = nodes.fit_text_encoder(titles, params(features="sequence"))
    features = nodes.encode_descriptions(
        titles, state, None, params(features="sequence")
    )
    assert isinstance(features, np.ndarray)
    assert features.shape == (len(titles), state["sequence_length"])
    assert 0.0 <= features.min() and features.max() <= 1.0


def test_one_huge_description_is_cut_to_max_length_and_logged(titles, caplog):
    huge = titles.copy()
    huge.loc[0, "description"] = "word " * 100_000
    with caplog.at_level("INFO"):
        state = nodes.fit_text_encoder(
            huge, params(features="sequence", max_length=128)
        )
    assert state["sequence_length"] == 128
    assert "1 of 120 descriptions were longer and cut to their first 128" in caplog.text


def _pretrain(features):
    autoencoder, history = nodes.pretrain_autoencoder(features, params())
    return autoencoder, history, nodes.embed_titles(autoencoder, features)


@pytest.fixture(scope="module")
def pretrained(tfidf):
    """Encoder, history and embeddings of one pretraining run (shared, unchanged)."""
    return _pretrain(tfidf[1])


def test_pretraining_repeats_with_the_same_seed(titles, tfidf, pretrained):
    first = pretrained
    second = _pretrain(tfidf[1])
    assert first[2].shape == (len(titles), 4)
    np.testing.assert_allclose(first[2], second[2], rtol=1e-5, atol=1e-6)
    assert first[1]["loss"] == pytest.approx(second[1]["loss"], rel=1e-5)


def test_the_saved_encoder_gives_the_same_embeddings(tfidf, pretrained, tmp_path: Path):
    features = tfidf[1]
    autoencoder, _, embeddings = pretrained
    dataset = TensorFlowModelDataset(filepath=str(tmp_path / "autoencoder.keras"))
    dataset.save(autoencoder)
    reloaded = dataset.load()
    np.testing.assert_allclose(
        nodes.embed_titles(reloaded, features), embeddings, rtol=1e-6, atol=1e-6
    )


def test_loss_curve_has_one_point_per_epoch():
    figure = nodes.plot_loss_curve({"loss": [1.0, 0.5, 0.25]})
    line = figure.axes[0].get_lines()[0]
    assert line.get_ydata().tolist() == [1.0, 0.5, 0.25]
    assert figure.axes[0].get_title()


def test_sentence_features_are_clustered_as_they_are():
    features = np.random.default_rng(0).normal(size=(30, 12)).astype(np.float32)
    embedding, history = nodes.pretrain_autoencoder(
        features, params(features="sentence", embedding="features")
    )
    # No bottleneck: the embedding is the features at unit length, nothing trained.
    assert history == {"loss": []} and not embedding.weights
    embeddings = nodes.embed_titles(embedding, features)
    np.testing.assert_allclose(
        embeddings,
        features / np.linalg.norm(features, axis=1, keepdims=True),
        rtol=1e-5,
    )
    assert not nodes.plot_loss_curve(history).axes[0].get_lines()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"features": "sentence"}, "umap"),
        ({"features": "sentence", "embedding": "features"}, "features"),
        ({"features": "tfidf"}, "autoencoder"),
        ({"features": "sequence"}, "autoencoder"),
        ({"features": "sentence", "embedding": "autoencoder"}, "autoencoder"),
        ({"features": "sequence", "embedding": "features"}, "features"),
    ],
)
def test_auto_embedding_picks_by_feature_kind(changes, expected):
    assert nodes.embedding_kind(params(**changes)) == expected


def test_sparse_features_cannot_skip_the_autoencoder(tfidf):
    with pytest.raises(ValueError, match="tfidf features are sparse"):
        nodes.pretrain_autoencoder(tfidf[1], params(embedding="features"))
