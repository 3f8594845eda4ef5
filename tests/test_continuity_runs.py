"""Continuity end to end on planted catalogues: numbers and names across retrains.

One scratch project, four training runs in a row on planted catalogues (the
default sentence features; DEC kept short): seven genres; the same with 10%
more titles; all eight genres (one gained); seven again without one genre (one
lost). Each run follows the one before, as `kedro run` does by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR
from netflix_dec.sample import THEMES, generate_catalogue
from tests.conftest import make_project_copy, run_kedro_session
from tests.support import latest

pytestmark = pytest.mark.slow

GAINED = THEMES[7].movie_genre  # "Music & Musicals": not in the first runs
LOST = THEMES[0].movie_genre  # "Horror Movies": gone from the last run
DEC = {"maxiter": 60, "update_interval": 20, "kmeans_n_init": 2}


def _planted(n_titles: int, drop: tuple[str, ...]) -> pd.DataFrame:
    """Movies of a planted catalogue without the genres in ``drop``.

    Titles ``s1 .. sN`` are the same titles whatever ``n_titles`` is (the
    generator draws each row in turn), so a larger catalogue grows a smaller one.
    """
    frame = generate_catalogue(n_titles=n_titles, seed=3, duplicate_share=0.0)
    genre = frame["listed_in"].str.split(",").str[0]
    keep = (frame["type"] == "Movie") & ~genre.isin(drop)
    return frame[keep].sort_values("show_id", key=lambda s: s.str[1:].astype(int))


def _genre_numbers(root: Path) -> dict[str, int]:
    """Each planted genre's cluster number: the cluster most of its titles are in."""
    clusters = pd.read_csv(root / "data/07_model_output/clusters.csv")
    titles = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    genre = titles.set_index("show_id")["listed_in"].str.split(",").str[0]
    clusters["genre"] = clusters["show_id"].map(genre)
    return clusters.groupby("genre")["cluster"].agg(lambda c: c.mode()[0]).to_dict()


def _json(root: Path, folder: str, name: str) -> dict:
    return json.loads(latest(root / folder / name).read_text(encoding="utf-8"))


def _space(root: Path) -> pd.DataFrame:
    """Each title's position in the clustering space, by ``show_id``."""
    titles = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    points = np.load(root / "data/05_model_input/embeddings.npy")
    return pd.DataFrame(points, index=titles["show_id"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = make_project_copy(tmp_path_factory.mktemp("continuity"))
    data = root / "data/01_raw"
    out: dict = {"root": root}
    steps = [
        ("first", 560, (GAINED,), 7),
        ("grown", 616, (GAINED,), 7),  # 10% more titles
        ("gained", 616, (), 8),
        ("lost", 616, (LOST,), 7),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for step, n_titles, drop, k in steps:
            csv = data / f"{step}.csv"
            _planted(n_titles, drop).to_csv(csv, index=False)
            patch.setenv(ENV_VAR, str(csv))
            run_kedro_session(
                root,
                ["data_processing", "encoding", "dec_clustering"],
                params={"dec_clustering": DEC | {"n_clusters": k}},
            )
            out[step] = {
                "numbers": _genre_numbers(root),
                "changes": _json(root, "data/08_reporting", "cluster_changes.json"),
                "summary": _json(root, "data/08_reporting", "cluster_summary.json"),
                "identities": _json(root, "data/06_models", "cluster_identities.json"),
                "space": _space(root),
            }
            if step == "first":
                # The user names every cluster after the generated file's format.
                generated = pd.read_csv(
                    root / "data/08_reporting/cluster_names_generated.csv"
                )
                assert generated.columns.tolist() == ["cluster", "name"]
                by_number = {n: g for g, n in out["first"]["numbers"].items()}
                generated["name"] = [
                    f"Our {by_number[c]}" for c in generated["cluster"]
                ]
                generated.to_csv(data / "cluster_names.csv", index=False)
    return out


def test_the_first_run_starts_fresh_and_every_genre_has_its_own_number(runs):
    first = runs["first"]
    assert not first["changes"]["followed"]
    assert sorted(first["numbers"].values()) == list(range(7))


def test_ten_percent_more_titles_keep_every_genres_number_and_name(runs):
    first, grown = runs["first"], runs["grown"]
    assert grown["numbers"] == first["numbers"]
    changes = grown["changes"]
    assert changes["followed"] and changes["titles"]["added"] > 0
    assert changes["titles"]["share_kept"] >= 0.95
    assert changes["new"] == [] and changes["retired"] == []
    names = {c["cluster"]: c for c in grown["summary"]["clusters"]}
    for genre, number in grown["numbers"].items():
        assert names[number]["name"] == f"Our {genre}"
        assert names[number]["named_by"] == "user"
        assert names[number]["generated_name"] != names[number]["name"]


def test_a_gained_genre_gets_a_number_never_used(runs):
    gained = runs["gained"]
    number = gained["numbers"][GAINED]
    assert number == 7  # the first number never used: 0-6 were
    changes = gained["changes"]
    assert changes["new"] == [7]
    assert {g: n for g, n in gained["numbers"].items() if g != GAINED} == runs["grown"][
        "numbers"
    ]
    new = changes["new_clusters"][0]
    assert new["titles_new_to_the_catalogue"] >= 0.9 * new["titles"]
    # The new cluster has no user name: the generated one stands.
    summary = {c["cluster"]: c for c in gained["summary"]["clusters"]}
    assert summary[7]["named_by"] == "generated"


def test_a_lost_genre_is_retired_and_its_name_reported(runs):
    lost, gained = runs["lost"], runs["gained"]
    number = gained["numbers"][LOST]
    changes = lost["changes"]
    assert changes["retired"] == [number]
    entry = next(c for c in changes["clusters"] if c["cluster"] == number)
    assert entry["status"] == "retired (its titles left the catalogue)"
    assert changes["names_of_gone_clusters"] == [
        {"cluster": number, "name": f"Our {LOST}"}
    ]
    assert f"Our {LOST}" in changes["summary"]
    assert lost["summary"]["names_of_gone_clusters"] == [
        {"cluster": number, "name": f"Our {LOST}"}
    ]
    # Every other genre kept its number; the retired one stays retired.
    assert {g: n for g, n in lost["numbers"].items()} == {
        g: n for g, n in gained["numbers"].items() if g != LOST
    }
    assert number in lost["identities"]["retired"]
    assert number not in lost["identities"]["numbers"]
    assert lost["identities"]["next_number"] == 8


def test_a_retrain_keeps_the_titles_still_there_where_they_were(runs):
    """The grown run follows the first run's UMAP layout instead of a new one."""
    first, grown = runs["first"]["space"], runs["grown"]["space"]
    both = first.index.intersection(grown.index)
    moved = np.linalg.norm(
        grown.loc[both].to_numpy() - first.loc[both].to_numpy(), axis=1
    )
    spread = np.linalg.norm(first.to_numpy().std(axis=0))
    assert np.median(moved) < 0.01 * spread, (np.median(moved), spread)


def test_the_change_figure_is_written_for_every_run(runs):
    figures = sorted((runs["root"] / "data/08_reporting/cluster_changes.png").glob("*"))
    assert len(figures) == 4
    assert all(
        np.fromfile(next(f.iterdir()), dtype=np.uint8).size > 1000 for f in figures
    )
