"""Word features with Keras 3, reproducibly: the backend of TF-IDF and sequences.

The notebook used ``keras.preprocessing.text.Tokenizer``, which Keras 3 no
longer has. ``keras.layers.TextVectorization`` replaces it here, with a
standardisation that matches the old tokenizer (lower case, the same
punctuation replaced by spaces, split on spaces), so that the real catalogue
still gives the notebook's 15,154 distinct tokens and padded length 46.

Everything needed to encode a new description the same way later is kept in a
plain JSON-ready ``state`` dictionary: the vocabulary, the IDF weights (TF-IDF)
or the sequence length and scaling (sequences).
:class:`netflix_dec.encoders.TfidfEncoder` and
:class:`netflix_dec.encoders.SequenceEncoder` wrap it; this module imports
TensorFlow, so they import it when they fit or encode.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import MinMaxScaler

from netflix_dec.encoders.matrix import FeatureMatrix

# The characters keras.preprocessing.text.Tokenizer replaced by spaces.
TOKENIZER_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_FILTER_PATTERN = "[" + re.escape(TOKENIZER_FILTERS) + "]"

Features = Literal["tfidf", "sequence"]
# A description cut to ``max_length`` tokens keeps its beginning, which says
# what the title is about; padding stays in front, as the notebook had it.
_TRUNCATING = "post"


class EmptyVocabularyError(ValueError):
    """The descriptions hold no token, so there is nothing to encode."""


def standardize(texts: tf.Tensor) -> tf.Tensor:
    """Lower-case (Unicode-aware) and blank out the old tokenizer's punctuation."""
    lowered = tf.strings.lower(texts, encoding="utf-8")
    return tf.strings.regex_replace(lowered, _FILTER_PATTERN, " ")


def _vectorizer(
    vocabulary: Sequence[str] | None = None, **kwargs: Any
) -> keras.layers.TextVectorization:
    # Splitting on ASCII whitespace, as the old tokenizer split on spaces, keeps
    # tokens joined by a no-break space together, which the 15,154 count needs.
    return keras.layers.TextVectorization(
        standardize=standardize, split="whitespace", vocabulary=vocabulary, **kwargs
    )


@functools.lru_cache(maxsize=4)
def _known_words(
    words: tuple[str, ...], output_mode: str, **kwargs: Any
) -> keras.layers.TextVectorization:
    """A vectorizer over a fixed word list, built once per list and mode.

    Building one fills a lookup table with the whole vocabulary: about 35 ms
    for 5,000 words on a 2-core machine, which a served TF-IDF model would
    otherwise pay on every request (counting one title's words with the
    built layer then takes about 14 ms, mostly Keras's eager call).
    """
    return _vectorizer(vocabulary=list(words), output_mode=output_mode, **kwargs)


def _as_tensor(texts: Sequence[str]) -> tf.Tensor:
    return tf.constant([str(text) for text in texts], dtype=tf.string)


def fit_vocabulary(texts: Sequence[str]) -> list[str]:
    """Every distinct token, most frequent first."""
    if len(texts) == 0:
        raise EmptyVocabularyError("No descriptions to build a vocabulary from.")
    layer = _vectorizer(output_mode="int")
    layer.adapt(_as_tensor(texts))
    vocabulary = [str(token) for token in layer.get_vocabulary()[2:]]  # '' and [UNK]
    if not vocabulary:
        raise EmptyVocabularyError(
            f"The {len(texts)} descriptions hold no token once lower-cased and "
            "stripped of punctuation."
        )
    return vocabulary


def _counts(words: Sequence[str], texts: Sequence[str]) -> sparse.csr_matrix:
    """Term counts, sparse; column j counts ``words[j]``, unknown words dropped."""
    layer = _known_words(tuple(words), "count", sparse=True)
    counts = layer(_as_tensor(texts)[:, None])
    indices = counts.indices.numpy()
    keep = indices[:, 1] > 0  # column 0 counts out-of-vocabulary tokens
    return sparse.csr_matrix(
        (counts.values.numpy()[keep], (indices[keep, 0], indices[keep, 1] - 1)),
        shape=(len(texts), len(words)),
        dtype=np.float32,
    )


def _sequences(words: Sequence[str], texts: Sequence[str]) -> list[list[int]]:
    """Token ids by frequency rank (1 = most frequent), unknown words dropped."""
    layer = _known_words(tuple(words), "int", ragged=True)
    ids = layer(_as_tensor(texts))
    ids = tf.ragged.boolean_mask(ids, ids > 1) - 1  # 0 pads, 1 is [UNK]
    return ids.to_list()


def fit_text_encoder(
    texts: Sequence[str],
    features: Features,
    max_words: int,
    max_length: int | None = None,
) -> dict[str, Any]:
    """Learn how to encode descriptions, as a JSON-ready state.

    Args:
        texts: The training descriptions.
        features: ``"tfidf"``: TF-IDF over the ``max_words`` most frequent
            words, L2-normalised rows (scikit-learn's ``TfidfTransformer`` on
            Keras term counts). ``"sequence"``: the notebook's features, token
            ids over the ``max_words - 1`` most frequent words (the old
            tokenizer's ``num_words`` kept ids below ``max_words``), left-padded
            to the longest description and min-max scaled per position.
        max_words: Size of the word list, as the notebook's ``max_words``.
        max_length: ``sequence`` only: at most this many tokens per
            description (its first ones), so that one very long description
            does not pad every title to its length. ``None``: no cap.

    Returns:
        The state :func:`encode_texts` needs.
    """
    if features not in ("tfidf", "sequence"):
        raise ValueError(f"features must be 'tfidf' or 'sequence', got {features!r}")
    if max_words < 2:
        raise ValueError(f"max_words must be at least 2, got {max_words}")
    vocabulary = fit_vocabulary(texts)
    state: dict[str, Any] = {
        "features": features,
        "max_words": max_words,
        "vocabulary_size": len(vocabulary),
        "standardize": "lower-case; replace " + repr(TOKENIZER_FILTERS) + " by spaces",
    }
    if features == "tfidf":
        words = vocabulary[:max_words]
        idf = TfidfTransformer().fit(_counts(words, texts)).idf_
        state.update(vocabulary=words, idf=[float(v) for v in idf])
    else:
        words = vocabulary[: max_words - 1]
        sequences = _sequences(words, texts)
        longest = max(1, *(len(seq) for seq in sequences))
        length = min(longest, max_length) if max_length else longest
        padded = keras.utils.pad_sequences(
            sequences, maxlen=length, truncating=_TRUNCATING
        )
        scaler = MinMaxScaler().fit(padded)
        state.update(
            vocabulary=words,
            sequence_length=length,
            longest_sequence=longest,
            truncated=sum(len(seq) > length for seq in sequences),
            scale_min=scaler.data_min_.tolist(),
            scale_max=scaler.data_max_.tolist(),
        )
    return state


def encode_texts(state: dict[str, Any], texts: Sequence[str]) -> FeatureMatrix:
    """Encode descriptions exactly as the state's training descriptions were.

    Returns:
        ``tfidf``: a float32 CSR matrix (titles × words), never densified,
        rows scaled to norm ``sqrt(words)``.
        ``sequence``: a float32 array (titles × sequence length) in [0, 1] for
        the training texts.
    """
    words = state["vocabulary"]
    if state["features"] == "tfidf":
        transformer = TfidfTransformer()
        transformer.idf_ = np.asarray(state["idf"], dtype=np.float64)
        tfidf = transformer.transform(_counts(words, texts))
        # DEC's scaling of TF-IDF: unit rows times sqrt(width), so that a value
        # averages 1 in square and a reconstruction error is not vanishingly small.
        return (tfidf * np.sqrt(len(words))).astype(np.float32).tocsr()
    padded = keras.utils.pad_sequences(
        _sequences(words, texts),
        maxlen=state["sequence_length"],
        truncating=_TRUNCATING,
    )
    # Fitting on the two rows (min, max) restores the training scaler exactly.
    scaler = MinMaxScaler().fit(np.vstack([state["scale_min"], state["scale_max"]]))
    return scaler.transform(padded).astype(np.float32)
