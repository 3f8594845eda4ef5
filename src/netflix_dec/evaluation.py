"""How well clusters agree with the catalogue's genres (weak labels).

Nobody labelled these titles by what their descriptions say; ``listed_in`` is
the nearest thing. A title lists several genres, some of them broad tags
("International Movies") that say nothing about the story. The weak label of
a title is its most specific genre: of its genres that are not broad tags, the
one that is rarest in the whole catalogue ("Dramas, Romantic Movies" →
"Romantic Movies"). Titles with only broad tags keep their first one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# scikit-learn and SciPy's optimiser are imported in the functions that use
# them: node modules import this one, and scikit-learn's import costs seconds
# of start-up to runs that never score a clustering.

BROAD_TAGS = frozenset(
    {
        "International Movies",
        "International TV Shows",
        "Independent Movies",
        "Movies",
        "TV Shows",
    }
)


def split_genres(listed_in: pd.Series) -> pd.Series:
    """Each title's genres as a list, in the order the catalogue gives them."""
    return (
        listed_in.fillna("")
        .str.split(",")
        .map(lambda genres: [genre.strip() for genre in genres if genre.strip()])
    )


def weak_genre_labels(listed_in: pd.Series) -> pd.Series:
    """The most specific genre of each title (see the module docstring)."""
    genres = split_genres(listed_in)
    frequency = genres.explode().value_counts()

    def most_specific(items: list[str]) -> str:
        specific = [genre for genre in items if genre not in BROAD_TAGS]
        if not specific:
            return items[0] if items else "Unknown"
        return min(specific, key=lambda genre: (frequency[genre], genre))

    return genres.map(most_specific).rename("weak_label")


def hungarian_accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import confusion_matrix

    _, truth_codes = np.unique(np.asarray(truth), return_inverse=True)
    _, label_codes = np.unique(np.asarray(labels), return_inverse=True)
    matrix = confusion_matrix(label_codes, truth_codes)
    rows, cols = linear_sum_assignment(-matrix)
    return float(matrix[rows, cols].sum() / len(truth_codes))


def agreement(truth: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """NMI, ARI and Hungarian-matched accuracy of ``labels`` against ``truth``."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "ari": float(adjusted_rand_score(truth, labels)),
        "accuracy": hungarian_accuracy(truth, labels),
    }
