"""A retrain follows the previous UMAP layout (netflix_dec.space_follow, issue 23)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netflix_dec import space, space_follow
from netflix_dec.params import DecClusteringParams
from netflix_dec.pipelines.encoding import nodes
from tests.test_continuity import PARAMS as DEC_PARAMS
from tests.test_space import SETTINGS, _params, planted

PLACE = {
    "n_neighbors": 8,
    "metric": "cosine",
    "min_dist": 0.0,
    "n_epochs": 60,
    "seed": 0,
}


@pytest.fixture(scope="module")
def grown():
    """Four planted groups; the previous layout knew three of them, minus ten titles."""
    rows, labels = planted(n_per=40, n_groups=4)
    before = (labels < 3) & (np.arange(len(labels)) >= 10)
    positions = space.fit_umap(space.unit_rows(rows[before]), **SETTINGS)
    previous = space.build_space_encoder(rows[before], positions, 8, 0.05)
    return rows, labels, before, positions, previous


def _titles(n: int) -> pd.DataFrame:
    """The catalogue beside the rows: its descriptions, all different."""
    return pd.DataFrame({"description": [f"description {i}" for i in range(n)]})


def _follow(
    continuity: str = "previous", refit_share: float = 0.25
) -> DecClusteringParams:
    return DecClusteringParams(
        **DEC_PARAMS.model_dump()
        | {"continuity": continuity, "continuity_refit_share": refit_share}
    )


def test_titles_still_there_keep_their_position_and_new_ones_are_placed(grown):
    rows, _, before, positions, previous = grown
    layout = space_follow.follow_layout(previous, rows)
    assert (layout.kept, layout.new, layout.gone) == (110, 50, 0)
    np.testing.assert_array_equal(layout.positions[:110], positions)
    # Without placement, a new title sits where the previous encoder puts it.
    np.testing.assert_allclose(
        layout.positions[110:],
        previous.predict(rows[~before], verbose=0),
        rtol=0,
        atol=1e-5,
    )
    # The layout's features are this run's normalised rows, kept then new.
    unit = space.unit_rows(rows)
    np.testing.assert_array_equal(layout.landmarks[:110], unit[before])
    np.testing.assert_array_equal(layout.landmarks[110:], unit[~before])
    assert layout.change == pytest.approx(50 / 160)
    # Titles that left the catalogue leave the layout.
    fewer = space_follow.follow_layout(previous, rows[before][20:])
    assert (fewer.kept, fewer.new, fewer.gone) == (90, 0, 20)
    np.testing.assert_array_equal(fewer.positions, positions[20:])


def test_an_unchanged_catalogue_gets_the_very_same_encoder(grown):
    # Bit for bit, so what was cached of the previous run's space (the t-SNE
    # map of its embeddings) still fits: normalising the stored, already
    # normalised features again moved them by a rounding step.
    rows, _, before, positions, previous = grown
    # The fit's rows, as the encoding node gives them (normalised once).
    fitted = space.build_space_encoder(
        space.unit_rows(rows[before]), positions, 8, 0.05
    )
    layout = space_follow.follow_layout(fitted, rows[before], PLACE)
    assert (layout.kept, layout.new, layout.gone) == (110, 0, 0)
    again = space.build_space_encoder(layout.landmarks, layout.positions, 8, 0.05)
    for mine, theirs in zip(again.get_weights(), fitted.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(
        again.predict(rows[before], verbose=0),
        fitted.predict(rows[before], verbose=0),
    )


def test_placing_moves_only_new_titles_and_gives_a_new_theme_its_own_region(grown):
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    rows, labels, before, positions, previous = grown
    plain = space_follow.follow_layout(previous, rows)
    placed = space_follow.follow_layout(previous, rows, PLACE)
    np.testing.assert_array_equal(placed.positions[:110], positions)
    truth = np.concatenate([labels[before], labels[~before]])

    def nmi(points: np.ndarray) -> float:
        found = KMeans(4, n_init=5, random_state=0).fit_predict(points)
        return normalized_mutual_info_score(truth, found)

    # The fourth group, unknown to the previous layout, is averaged between
    # old groups by the encoder; UMAP's objective gathers it apart.
    assert nmi(placed.positions) > 0.95
    assert nmi(placed.positions) > nmi(plain.positions)


def test_a_grown_catalogue_follows_the_previous_layout(grown, monkeypatch):
    rows, _, before, positions, previous = grown
    fits = []
    monkeypatch.setattr(space, "fit_umap", lambda x, **s: fits.append(s))
    small = np.concatenate([rows[before], rows[~before][:10]])  # 10 new of 120
    encoder, history = nodes.follow_or_pretrain(
        small, _titles(len(small)), _params(), None, previous, _follow()
    )
    assert fits == [] and history == {"loss": []}
    landmarks, kept = space_follow.neighbour_space(encoder).get_weights()
    np.testing.assert_array_equal(kept[:110], positions)
    assert len(landmarks) == 120


def test_new_titles_are_placed_by_the_blended_neighbours_the_fit_used(
    grown, monkeypatch
):
    rows, _, before, _, previous = grown
    calls = []
    blended = space.blended_neighbours

    def spy(x, words, *args, **kwargs):
        calls.append((x.shape[0], words, args))
        return blended(x, words, *args, **kwargs)

    monkeypatch.setattr(space, "blended_neighbours", spy)
    small = np.concatenate([rows[before], rows[~before][:10]])
    nodes.follow_or_pretrain(
        small,
        _titles(len(small)),
        _params(umap_word_weight=0.3),
        None,
        previous,
        _follow(),
    )
    ((n, words, (k, metric, weight)),) = calls  # followed, not fitted
    assert n == len(small) and words.shape[0] == len(small)
    assert (k, metric, weight) == (9, "cosine", 0.3)


def test_small_retrains_add_up_until_the_layout_is_fitted_again(
    grown, monkeypatch, tmp_path
):
    import keras

    rows, _, before, _, previous = grown
    fits = []
    fit = space.fit_umap
    monkeypatch.setattr(space, "fit_umap", lambda x, **s: fits.append(1) or fit(x, **s))
    new = rows[~before]
    model, shares = previous, []
    for added in (10, 30, 40):  # 10 of 120 new, then 20 of 140, then 10 of 150
        catalogue = np.concatenate([rows[before], new[:added]])
        model, _ = nodes.follow_or_pretrain(
            catalogue, _titles(len(catalogue)), _params(), None, model, _follow()
        )
        shares.append(space_follow.neighbour_space(model).followed_change)
        # The share travels with the saved model, to the next retrain.
        path = tmp_path / f"after_{added}.keras"
        model.save(path)
        model = keras.saving.load_model(path)
    assert shares[0] == pytest.approx(10 / 120)
    assert shares[1] == pytest.approx(10 / 120 + 20 / 140)
    # The third adds 10 of 150 (7%, under the 25% share on its own), but 29%
    # changed since the fit: fitted anew, and counting starts again.
    assert fits == [1] and shares[2] == 0.0


@pytest.mark.parametrize(
    "why", ["fresh", "no previous", "changed too much", "other settings"]
)
def test_otherwise_the_layout_is_fitted_as_before(grown, why):
    rows, _, before, _, previous = grown
    params, follow, given = _params(), _follow(), previous
    if why == "fresh":
        follow = _follow("fresh")
    elif why == "no previous":
        given = None
    elif why == "changed too much":  # 50 new of 160 titles: 31% > 25%
        pass
    else:
        params = _params(umap_neighbors=10)
    encoder, _ = nodes.follow_or_pretrain(
        rows, _titles(len(rows)), params, None, given, follow
    )
    expected, _ = nodes.pretrain_autoencoder(rows, params, None)
    for got, want in zip(encoder.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # two fits


def test_the_refit_share_is_validated():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="continuity_refit_share"):
        _follow(refit_share=1.5)
