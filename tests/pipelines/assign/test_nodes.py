"""assign nodes: parity with training, the novel and seen flags, each refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netflix_dec import dec, encoders
from netflix_dec.encoders import words
from netflix_dec.params import (
    AssignParams,
    DataProcessingParams,
    DecClusteringParams,
    EncodingParams,
)
from netflix_dec.pipelines.assign import nodes
from netflix_dec.pipelines.dec_clustering.nodes import calibrate_novelty
from netflix_dec.storage.caches import FeatureCache

PROCESSING = DataProcessingParams(types=["Movie"], top_n=5)  # no column map

ENCODING = EncodingParams(
    features="tfidf",
    embedding="auto",
    max_words=400,
    dims=[None, 16, 4],
    activation="relu",
    optimizer="adam",
    learning_rate=0.001,
    loss="mse",
    epochs=3,
    batch_size=32,
    sentence_batch_size=16,
    seed=0,
)
ASSIGN = AssignParams(novelty_percentile=5)


@pytest.fixture(scope="module")
def trained(sample_titles, tmp_path_factory):
    """A small DEC model trained on 300 sample titles, as the pipelines do."""
    titles = sample_titles.head(300).reset_index(drop=True)
    state = words.fit_text_encoder(titles["description"].tolist(), "tfidf", 400)
    cache = FeatureCache(path=str(tmp_path_factory.mktemp("cache")))
    x, _ = encoders.from_settings(state).encode(titles["description"].tolist(), cache)
    autoencoder, encoder = dec.build_autoencoder([x.shape[1], 16, 4], seed=0)
    dec.pretrain_autoencoder(autoencoder, x, epochs=3, batch_size=32)
    params = DecClusteringParams(
        n_clusters=5,
        variant="dec",
        gamma=0.1,
        alpha=1.0,
        batch_size=32,
        maxiter=20,
        update_interval=10,
        tol=0.001,
        learning_rate=0.01,
        momentum=0.9,
        kmeans_n_init=2,
        guard="none",
        silhouette_sample=1000,
        top_words=3,
        examples=2,
        seed=0,
    )
    result = dec.fit_dec(encoder, x, dec.DecConfig.of(params), verbose=False)
    calibration = calibrate_novelty(result.q, state)
    return titles, state, result, calibration, cache


def _assign(trained, new_titles, cache=None, **changes):
    titles, state, result, calibration, default_cache = trained
    checked = nodes.check_new_titles(new_titles, titles, PROCESSING)
    arguments = {
        "text_encoder": state,
        "dec_model": result.model,
        "calibration": calibration,
        "feature_cache": cache if cache is not None else default_cache,
    } | changes
    return nodes.assign_new_titles(
        checked,
        titles,
        arguments["text_encoder"],
        arguments["dec_model"],
        arguments["calibration"],
        arguments["feature_cache"],
        ASSIGN,
        ENCODING,
    )


def test_assigning_the_training_titles_reproduces_the_training_run(trained, caplog):
    titles, _, result, calibration, _ = trained
    assigned, report, _, embedding = _assign(trained, titles)
    assert assigned.columns.tolist() == list(nodes.OUTPUT_COLUMNS)
    np.testing.assert_array_equal(assigned["cluster"], result.q.argmax(axis=1))
    np.testing.assert_allclose(
        assigned["confidence"], result.q.max(axis=1), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(embedding, result.embedding, atol=1e-5)
    assert assigned["seen"].all()
    # The novelty threshold is the training confidences' 5th percentile.
    threshold = np.percentile(result.q.max(axis=1), 5)
    assert report["novelty_threshold"] == pytest.approx(threshold)
    assert assigned["novel"].tolist() == (assigned["confidence"] < threshold).tolist()
    assert report["novel"] == int(np.sum(result.q.max(axis=1) < threshold))
    assert sum(item["titles"] for item in report["clusters"]) == len(titles)
    # Every feature row came from the cache the training run filled.
    assert (report["features_reused"], report["features_computed"]) == (300, 0)
    assert (assigned["runner_up"] != assigned["cluster"]).all()
    assert calibration["titles"] == 300


def test_new_titles_are_not_seen_and_a_foreign_description_is_novel(
    trained, tmp_path: Path
):
    new = pd.DataFrame(
        {
            "show_id": ["n1", "n2", "n3"],
            "title": ["Brand new", "Zzz", "Shown again"],
            "description": [
                "qwertyuiop asdfghjkl zxcvbnm",  # no known word: an all-zero row
                trained[0]["description"][3],  # a known description, another title
                trained[0]["description"][5],
            ],
        }
    )
    new.loc[2, "title"] = f"  {trained[0]['title'][5].upper()} "
    assigned, report, new_features, _ = _assign(
        trained, new, cache=FeatureCache(path=str(tmp_path / "cache"))
    )
    assert assigned["seen"].tolist() == [False, False, True]
    assert new_features.shape == (3, len(trained[1]["vocabulary"]))
    assert report["features_computed"] == 3 and report["seen"] == 1
    assert assigned["confidence"].between(0, 1).all()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            pd.DataFrame({"show_id": ["a"], "title": ["t"]}),
            r"missing column\(s\) \['description'\]",
        ),
        (pd.DataFrame(columns=["show_id", "title", "description"]), "no rows"),
        (
            pd.DataFrame(
                {"show_id": ["a", "a"], "title": ["t", "u"], "description": ["x", "y"]}
            ),
            r"repeat: \['a'\]",
        ),
        (
            pd.DataFrame(
                {"show_id": ["a", "b"], "title": ["t", "u"], "description": ["x", "  "]}
            ),
            r"1 new title\(s\) have no description.*\['b'\]",
        ),
    ],
)
def test_a_bad_new_titles_table_is_refused(trained, table, message):
    with pytest.raises(nodes.NewTitlesError, match=message):
        nodes.check_new_titles(table, trained[0], PROCESSING)


def test_an_encoder_of_another_mode_or_width_is_refused_naming_both(trained):
    titles = trained[0]
    sequence = words.fit_text_encoder(titles["description"].tolist(), "sequence", 400)
    with pytest.raises(
        nodes.ModelMismatchError,
        match=r"trained on tfidf features 400 wide, but text_encoder makes sequence features \d+ wide",
    ):
        _assign(trained, titles.head(3), text_encoder=sequence)
    other_words = words.fit_text_encoder(
        [*titles["description"], "entirely different words here"], "tfidf", 400
    )
    with pytest.raises(nodes.ModelMismatchError, match="with other settings"):
        _assign(trained, titles.head(3), text_encoder=other_words)


def test_a_calibration_from_another_run_is_refused(trained):
    titles, *_, calibration, _ = trained
    with pytest.raises(
        nodes.ModelMismatchError, match="dec_calibration was made for 7"
    ):
        _assign(trained, titles.head(3), calibration=calibration | {"n_clusters": 7})
    with pytest.raises(nodes.ModelMismatchError, match="different runs"):
        _assign(trained, titles.head(3), calibration=calibration | {"titles": 999})


def test_the_threshold_interpolates_the_stored_percentiles():
    calibration = {"confidence_percentiles": list(np.linspace(0.2, 1.0, 101))}
    assert nodes.novelty_threshold(calibration, 5) == pytest.approx(0.24)
    assert nodes.novelty_threshold(calibration, 2.5) == pytest.approx(0.22)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00bad"), "not a UTF-8 CSV"),
        (
            lambda p: p.write_text("show_id,title\ns1,A\n"),
            r"missing column\(s\) \['description'\]",
        ),
        (lambda p: p.write_text("show_id,title,description\n"), "header but no rows"),
    ],
)
def test_a_new_titles_file_gets_the_raw_catalogue_checks(tmp_path: Path, make, message):
    from netflix_dec.catalogue import RawTitlesError, check_new_titles_file

    path = tmp_path / "new_titles.csv"
    make(path)
    with pytest.raises(RawTitlesError, match=message) as error:
        check_new_titles_file(path)
    assert str(path) in str(error.value)


def test_a_minimal_new_titles_file_passes(tmp_path: Path):
    from netflix_dec.catalogue import check_new_titles_file

    path = tmp_path / "new_titles.csv"
    path.write_text("show_id,title,description\nn1,A title,Some words.\n")
    check_new_titles_file(path)


def test_assign_reports_the_training_runs_numbers_names_and_what_moved(trained):
    """After a retrain clusters may be numbered 2, 5, 9, ...: assign says those."""
    titles, state, result, calibration, cache = trained
    numbers = [2, 5, 9, 11, 14]
    renumbered = calibration | {"cluster_numbers": numbers}
    summary = {
        "clusters": [{"cluster": n, "name": f"Name {n}"} for n in numbers],
    }
    checked = nodes.check_new_titles(titles.head(40), titles, PROCESSING)
    slots = result.q[:40].argmax(axis=1)
    previous = pd.DataFrame(
        {
            "show_id": titles["show_id"].head(40),
            "cluster": [numbers[s] for s in slots],
        }
    )
    previous.loc[:4, "cluster"] = 99  # five titles were elsewhere before
    assigned, report, _, _ = nodes.assign_new_titles(
        checked,
        titles,
        state,
        result.model,
        renumbered,
        cache,
        ASSIGN,
        ENCODING,
        summary,
        previous,
    )
    np.testing.assert_array_equal(assigned["cluster"], np.array(numbers)[slots])
    assert set(assigned["runner_up"]) <= set(numbers)
    assert (assigned["name"] == "Name " + assigned["cluster"].astype(str)).all()
    assert {c["name"] for c in report["clusters"]} <= {f"Name {n}" for n in numbers}
    since = report["since_previous_assign"]
    assert (since["titles_in_both"], since["moved"]) == (40, 5)
