"""The synthetic catalogue: Kaggle's schema, planted genres, planted dirt."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from netflix_dec.catalogue import COLUMNS
from netflix_dec.sample import THEMES, generate_catalogue


def test_the_committed_sample_is_what_the_generator_writes(sample_titles):
    generated = generate_catalogue()
    pd.testing.assert_frame_equal(
        sample_titles, pd.read_csv(io.StringIO(generated.to_csv(index=False)))
    )


def test_same_seed_same_catalogue_other_seed_other_catalogue():
    first = generate_catalogue(n_titles=200, seed=3)
    assert first.equals(generate_catalogue(n_titles=200, seed=3))
    assert not first.equals(generate_catalogue(n_titles=200, seed=4))


def test_schema_types_and_dirt_for_the_cleaning(sample_titles):
    assert list(sample_titles.columns) == list(COLUMNS)
    assert set(sample_titles["type"]) == {"Movie", "TV Show"}
    assert 1000 <= len(sample_titles) <= 2000
    assert (
        sample_titles["director"].isna().sum() > sample_titles["cast"].isna().sum() > 0
    )
    assert (
        sample_titles["country"].isna().any()
        and sample_titles["date_added"].isna().any()
    )
    assert sample_titles.duplicated().sum() > 0


def test_listed_in_starts_with_the_planted_genre_whose_words_the_description_uses(
    sample_titles,
):
    def words(theme):
        return set(theme.people + theme.nouns + theme.verbs + theme.adjectives)

    by_genre = {theme.movie_genre: theme for theme in THEMES} | {
        theme.show_genre: theme for theme in THEMES
    }
    planted = sample_titles["listed_in"].str.split(", ").str[0]
    assert set(planted) == set(by_genre)
    wins = []
    for genre, text in zip(planted, sample_titles["description"], strict=True):
        tokens = [word.strip(".,:") for word in text.lower().split()]
        counts = {
            theme.movie_genre: sum(t in words(theme) for t in tokens)
            for theme in THEMES
        }
        own = counts[by_genre[genre].movie_genre]
        wins.append(
            own >= 4
            and own
            > max(v for k, v in counts.items() if k != by_genre[genre].movie_genre)
        )
    assert sum(wins) / len(wins) > 0.9


def test_at_least_one_title_is_required():
    with pytest.raises(ValueError, match="n_titles must be at least 1"):
        generate_catalogue(n_titles=0)
