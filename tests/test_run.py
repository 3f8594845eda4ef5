"""End to end: `kedro run --env fast` on the bundled sample, overrides, bad params.

One full run (about a minute) is shared by the tests of this module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.startup import bootstrap_project

from netflix_dec.catalogue import ENV_VAR
from tests.support import kedro, latest

from .conftest import (
    PROJECT_ROOT,
    finished_fast_run,
    make_project_copy,
    run_kedro_session,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A scratch project after a full `kedro run --env fast` on the sample."""
    return finished_fast_run(tmp_path_factory.mktemp("e2e"))


def _json(root: Path, name: str) -> dict:
    path = latest(root / "data/08_reporting" / name)  # reports are versioned
    return json.loads(path.read_text(encoding="utf-8"))


def test_fast_run_recovers_the_planted_genres(finished_run: Path):
    metrics = _json(finished_run, "clustering_metrics.json")
    assert metrics["n_clusters"] == 8
    assert metrics["final"]["nmi"] >= 0.8, metrics
    assert metrics["final"]["non_empty_clusters"] == 8


def test_fast_run_writes_every_output(finished_run: Path):
    data = finished_run / "data"
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    clean = pd.read_csv(data / "03_primary/clean_titles.csv")
    assert clusters.columns.tolist() == ["show_id", "title", "cluster", "confidence"]
    assert clusters["show_id"].tolist() == clean["show_id"].tolist()
    assert clusters["confidence"].between(0, 1).all()
    q = np.load(data / "07_model_output/soft_assignments.npy")
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-4)
    assert (q.argmax(axis=1) == clusters["cluster"].to_numpy()).all()
    summary = _json(finished_run, "cluster_summary.json")["clusters"]
    assert sum(item["size"] for item in summary) == len(clusters)
    assert all(item["top_words"] for item in summary if item["size"])
    training = _json(finished_run, "dec_training.json")
    assert training["stop_reason"] in {"tol", "maxiter"}
    for png in ("cluster_map.png", "pretraining_loss.png", "top_genres.png"):
        assert (data / "08_reporting" / png).read_bytes()[:4] == b"\x89PNG"
    html = (data / "08_reporting/cluster_explorer.html").read_text(encoding="utf-8")
    assert "Bokeh" in html and "cdn.bokeh.org" not in html
    for model in ("autoencoder", "dec_model"):
        assert latest(data / f"06_models/{model}.keras").stat().st_size > 0


def test_run_leaves_pyproject_and_telemetry_consent_alone(finished_run: Path):
    assert (finished_run / "pyproject.toml").read_bytes() == (
        PROJECT_ROOT / "pyproject.toml"
    ).read_bytes()
    assert (finished_run / ".telemetry").read_text().strip() == "consent: false"
    assert "kedro_telemetry" not in (finished_run / "pyproject.toml").read_text()


def test_a_params_override_reaches_the_clustering(
    finished_run: Path, tmp_path: Path, monkeypatch
):
    # A copy: the other tests of this module read the shared run's outputs.
    root = shutil.copytree(finished_run, tmp_path / "project")
    monkeypatch.chdir(root)
    monkeypatch.delenv(ENV_VAR, raising=False)
    overrides = {
        "dec_clustering": {"n_clusters": 8, "maxiter": 30, "update_interval": 10}
    }
    # base says 20 clusters; the override must win.
    run_kedro_session(root, ["dec_clustering"], params=overrides)
    q = np.load(root / "data/07_model_output/soft_assignments.npy")
    assert q.shape[1] == 8
    assert _json(root, "clustering_metrics.json")["n_clusters"] == 8


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "encoding.featres=tfidf",
            ["encoding", "featres", "Extra inputs are not permitted"],
        ),
        (
            "dec_clustering.n_clusters=abc",
            ["dec_clustering", "n_clusters", "abc", "valid integer"],
        ),
        ("dec_clustering.tol=1.5", ["tol", "1.5", "less than 1"]),
        ("encoding.epochs=true", ["epochs=True holds a boolean", "epochs takes int"]),
        (
            "dec_clusterng.n_clusters=8",
            ["dec_clusterng", "did you mean 'dec_clustering'"],
        ),
    ],
)
def test_bad_parameters_fail_at_start_naming_key_and_value(
    tmp_path: Path, override, expected
):
    root = make_project_copy(tmp_path)
    result = kedro(root, "run", "--env", "fast", "--params", override)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for text in expected:
        assert text in output, output[-3000:]
    assert "Running node" not in output
    assert not (root / "data/03_primary/clean_titles.csv").exists()


def test_the_exploration_notebook_runs_on_a_finished_run(
    finished_run: Path, monkeypatch
):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(PROJECT_ROOT / "notebooks/explore_run.ipynb", as_version=4)
    monkeypatch.setenv("NETFLIX_DEC_PROJECT", str(finished_run))
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv(ENV_VAR, raising=False)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(finished_run)}},
    )
    client.execute()
    outputs = [
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]
    clusters = pd.read_csv(finished_run / "data/07_model_output/clusters.csv")
    assert f"{len(clusters)} titles in 8 clusters" in "\n".join(outputs)
    images = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 3


def test_kedro_viz_shows_every_node_of_every_pipeline(tmp_path: Path):
    from kedro.framework.project import pipelines

    root = make_project_copy(tmp_path)
    result = kedro(root, "viz", "build", timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    api = json.loads((root / "build/api/main").read_text(encoding="utf-8"))
    bootstrap_project(root)
    shown = {node["full_name"] for node in api["nodes"] if node["type"] == "task"}
    for name in ("data_processing", "encoding", "dec_clustering", "visualization"):
        expected = {node.name for node in pipelines[name].nodes}
        assert expected and expected <= shown, f"{name}: missing {expected - shown}"
        assert name in api["modular_pipelines"]
    # assign is not part of training: its own entry in kedro viz's pipeline menu.
    assign = json.loads((root / "build/api/pipelines/assign").read_text("utf-8"))
    in_assign = {n["full_name"] for n in assign["nodes"] if n["type"] == "task"}
    expected = {node.name for node in pipelines["assign"].nodes}
    assert expected and expected <= in_assign and not expected & shown
    assert "heap" not in (root / "build/index.html").read_text(encoding="utf-8")


def test_assigning_the_training_titles_reproduces_the_run(
    finished_run: Path, tmp_path: Path, monkeypatch
):
    root = shutil.copytree(finished_run, tmp_path / "project")
    data = root / "data"
    shutil.copy2(data / "03_primary/clean_titles.csv", data / "01_raw/new_titles.csv")
    monkeypatch.delenv("NEW_TITLES_CSV", raising=False)
    # As a user runs it: a fresh process, which has imported none of the
    # project's Keras layers when it loads the saved model.
    result = kedro(root, "run", "--pipelines", "assign", "--env", "fast")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assigned = pd.read_csv(data / "07_model_output/assigned_titles.csv")
    q = np.load(data / "07_model_output/soft_assignments.npy")
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    assert assigned.columns.tolist() == [
        "show_id",
        "title",
        "cluster",
        "confidence",
        "runner_up",
        "novel",
        "seen",
        "name",  # the cluster's name in cluster_summary (the user's, if given)
    ]
    assert assigned["show_id"].tolist() == clusters["show_id"].tolist()
    assert (assigned["cluster"] == clusters["cluster"]).all()
    np.testing.assert_allclose(assigned["confidence"], q.max(axis=1), rtol=0, atol=1e-6)
    assert assigned["seen"].all()
    report = _json(root, "assignment_report.json")
    assert report["features_computed"] == 0
    assert report["features_reused"] == len(clusters)
    assert 0.03 <= report["share_novel"] <= 0.07
    # The new titles on the training map: every one placed, and in the explorer.
    placed = json.loads((data / "07_model_output/assigned_points.json").read_text())
    new = [i for i, is_new in enumerate(placed["columns"]["new"]) if is_new]
    assert len(new) == len(clusters)
    assert all(placed["columns"]["x"][i] is not None for i in new)
    page = (data / "08_reporting/assigned_explorer.html").read_text(encoding="utf-8")
    assert f"new titles ({len(clusters)})" in page


def test_visualization_refuses_outputs_of_two_runs(
    finished_run: Path, tmp_path: Path, monkeypatch
):
    root = shutil.copytree(finished_run, tmp_path / "project")
    data = root / "data"
    clusters = pd.read_csv(data / "07_model_output/clusters.csv")
    clusters.head(1).to_csv(data / "07_model_output/clusters.csv", index=False)
    explorer = data / "08_reporting/cluster_explorer.html"
    before = explorer.read_bytes()
    monkeypatch.chdir(root)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(Exception, match="come from different runs"):
        run_kedro_session(root, ["visualization"], env="fast")
    assert explorer.read_bytes() == before


def test_assign_before_training_names_the_command_that_trains(tmp_path: Path):
    root = make_project_copy(tmp_path)
    result = kedro(root, "run", "--pipelines", "assign")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No trained model yet" in output, output[-3000:]
    assert "dec_model (data/06_models/dec_model.keras)" in output
    assert "`kedro run`" in output
    assert "Running node" not in output


def test_a_second_run_embeds_nothing(finished_run: Path, tmp_path: Path):
    root = shutil.copytree(finished_run, tmp_path / "project")
    result = kedro(
        root, "run", "--env", "fast", "--to-nodes", "encoding.encode_descriptions"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    clean = pd.read_csv(root / "data/03_primary/clean_titles.csv")
    distinct = clean["description"].nunique()
    assert f"{distinct} reused from the feature cache, 0 computed" in output, output[
        -3000:
    ]


def test_a_second_visualization_run_reuses_the_map(finished_run: Path, tmp_path: Path):
    root = shutil.copytree(finished_run, tmp_path / "project")
    before = json.loads((root / "data/07_model_output/points.json").read_text())
    result = kedro(root, "run", "--env", "fast", "--pipelines", "visualization")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Reused the t-SNE map" in output, output[-3000:]
    after = json.loads((root / "data/07_model_output/points.json").read_text())
    assert after["columns"]["x"] == before["columns"]["x"]
