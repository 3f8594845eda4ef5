"""Tokenization and features with Keras 3 (netflix_dec.encoders.words)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from netflix_dec.catalogue import COLUMNS
from netflix_dec.encoders import words
from netflix_dec.params import DataProcessingParams
from netflix_dec.pipelines.data_processing import nodes

TEXTS = [
    "A well-known chef's kitchen burns; the chef rebuilds.",
    "The chef and the baker open a kitchen in Paris",
    "Aliens invade Paris!",
]


def _tokens(texts):
    # The old tokenizer split on " " only.
    return [
        [w for w in t.numpy().decode().split(" ") if w]
        for t in words.standardize(np.array(texts))
    ]


def test_standardize_matches_the_old_keras_tokenizer():
    # Hyphens and punctuation split words; apostrophes stay; case folds, also
    # beyond ASCII; a no-break space does not split (the tokenizer split on " ").
    assert _tokens(["Well-known CHEF's ÉCLAIR,bakery", "a\xa0b c"]) == [
        ["well", "known", "chef's", "éclair", "bakery"],
        ["a\xa0b", "c"],
    ]


def test_vocabulary_is_ordered_by_frequency():
    vocabulary = words.fit_vocabulary(TEXTS)
    counts = pd.Series([w for t in _tokens(TEXTS) for w in t]).value_counts()
    assert sorted(vocabulary) == sorted(counts.index)
    assert vocabulary[0] == "the"
    frequencies = counts[vocabulary].to_numpy()
    assert (np.diff(frequencies) <= 0).all()


def test_tfidf_is_sparse_with_scaled_unit_rows():
    state = words.fit_text_encoder(TEXTS, "tfidf", max_words=5)
    features = words.encode_texts(state, TEXTS)
    assert sparse.issparse(features)
    assert features.shape == (3, 5)
    assert features.dtype == np.float32
    norms = np.sqrt(features.multiply(features).sum(axis=1)).A1
    np.testing.assert_allclose(norms, np.sqrt(5), rtol=1e-5)
    assert state["vocabulary"] == words.fit_vocabulary(TEXTS)[:5]


def test_tfidf_weighs_rare_words_more():
    state = words.fit_text_encoder(TEXTS, "tfidf", max_words=100)
    features = words.encode_texts(state, ["the aliens"]).toarray()[0]
    vocabulary = state["vocabulary"]
    assert features[vocabulary.index("aliens")] > features[vocabulary.index("the")] > 0


def test_sequences_are_left_padded_ranks_scaled_to_unit_range():
    state = words.fit_text_encoder(
        TEXTS, "sequence", max_words=4
    )  # the 3 most frequent
    assert state["vocabulary"] == words.fit_vocabulary(TEXTS)[:3]
    ids = words._sequences(state["vocabulary"], TEXTS)
    assert ids[2] == [words.fit_vocabulary(TEXTS).index("paris") + 1]
    assert state["sequence_length"] == max(len(seq) for seq in ids)
    features = words.encode_texts(state, TEXTS)
    assert features.shape == (3, state["sequence_length"])
    assert features.min() == 0.0 and features.max() == 1.0
    assert features[2, 0] == 0.0  # padding comes first


def test_max_length_caps_sequences_and_keeps_the_first_tokens():
    texts = ["alpha beta", " ".join(f"w{i}" for i in range(100_000 // 5))]
    state = words.fit_text_encoder(texts, "sequence", max_words=50_000, max_length=8)
    assert state["sequence_length"] == 8
    assert state["truncated"] == 1
    assert state["longest_sequence"] == 20_000
    features = words.encode_texts(state, texts)
    assert features.shape == (2, 8)
    ids = words._sequences(state["vocabulary"], texts[1:])[0]
    first = words.encode_texts(state, [" ".join(f"w{i}" for i in range(8))])
    np.testing.assert_array_equal(features[1], first[0])  # the beginning is kept
    assert len(ids) == 20_000


def test_a_new_description_is_encoded_like_a_training_one():
    for features in ("tfidf", "sequence"):
        state = words.fit_text_encoder(TEXTS, features, max_words=50)
        batch = words.encode_texts(state, TEXTS)
        single = words.encode_texts(state, [TEXTS[1]])
        row = batch[1].toarray() if sparse.issparse(batch) else batch[1:2]
        dense_single = single.toarray() if sparse.issparse(single) else single
        np.testing.assert_allclose(dense_single, row, rtol=1e-6)


def test_each_word_list_counts_with_its_own_vectorizer():
    """The vectorizers are built once per word list: another list is another one."""
    texts = ["apple pear apple", "pear fig"]
    first = words._counts(["apple", "pear"], texts).toarray()
    second = words._counts(["fig", "apple"], texts).toarray()
    again = words._counts(["apple", "pear"], texts).toarray()

    np.testing.assert_array_equal(first, [[2, 1], [0, 1]])
    np.testing.assert_array_equal(second, [[0, 2], [1, 0]])
    np.testing.assert_array_equal(again, first)
    assert words._sequences(["pear", "apple"], texts) == [[2, 1, 2], [1]]


def test_unknown_words_are_dropped_not_counted():
    state = words.fit_text_encoder(TEXTS, "tfidf", max_words=50)
    assert words.encode_texts(state, ["zebra quokka"]).nnz == 0


@pytest.mark.parametrize(
    ("texts", "message"),
    [([], "No descriptions"), (["!!!", "...", " "], "hold no token")],
)
def test_empty_vocabulary_is_a_clear_error(texts, message):
    with pytest.raises(words.EmptyVocabularyError, match=message):
        words.fit_text_encoder(texts, "tfidf", max_words=10)


def test_bad_mode_and_word_count_are_refused():
    with pytest.raises(ValueError, match="features must be 'tfidf' or 'sequence'"):
        words.fit_text_encoder(TEXTS, "bow", max_words=10)
    with pytest.raises(ValueError, match="max_words must be at least 2"):
        words.fit_text_encoder(TEXTS, "tfidf", max_words=1)


@pytest.mark.realdata
def test_real_catalogue_has_the_notebooks_vocabulary_and_padded_length(
    real_titles: pd.DataFrame,
):
    # The titles the encoding pipeline gets with the notebook's cleaning rule.
    notebook_rule = [column for column in COLUMNS if column != "director"]
    params = DataProcessingParams(
        types=["Movie"], top_n=15, required_columns=notebook_rule
    )
    movies, _ = nodes.clean_titles(nodes.validate_titles(real_titles, params), params)
    state = words.fit_text_encoder(
        movies["description"].tolist(), "sequence", max_words=10000
    )
    assert len(movies) == 5277
    assert state["vocabulary_size"] == 15154
    assert state["sequence_length"] == 46
