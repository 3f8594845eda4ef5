"""MLflow tracking: what one run records, and that tracking never fails a run."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from netflix_dec import tracking, tracking_values
from netflix_dec.catalogue import ENV_VAR
from tests.support import latest

from .conftest import make_project_copy, run_kedro_session

# ---- what is taken from the reports --------------------------------------------------


def test_parameters_are_flattened_by_group_and_key():
    flat = tracking_values.flatten(
        {"encoding": {"dims": [None, 8], "seed": 1}, "dec_clustering": {"alpha": 1.0}}
    )
    assert flat == {
        "encoding.dims": [None, 8],
        "encoding.seed": 1,
        "dec_clustering.alpha": 1.0,
    }


def test_parameter_models_are_flattened_like_dicts():
    class Group(BaseModel):
        n_clusters: int
        variant: str

    flat = tracking_values.flatten(
        {"dec_clustering": Group(n_clusters=8, variant="idec")}
    )
    assert flat == {"dec_clustering.n_clusters": 8, "dec_clustering.variant": "idec"}


def test_report_metrics_are_its_finite_numbers():
    report = {
        "titles": 952,
        "variant": "idec",
        "kept_start": True,
        "final": {"nmi": 0.9, "silhouette": None, "ari": math.nan},
    }
    assert tracking_values.numeric_leaves(report, "x.") == {
        "x.titles": 952.0,
        "x.final.nmi": 0.9,
    }


def test_dec_and_autoencoder_histories_become_metric_steps():
    training = {
        "updates": [
            {"iteration": 0, "loss": math.nan, "changed": 0.0, "clusters": 8},
            {"iteration": 30, "loss": 0.25, "changed": 0.1, "clusters": 8},
        ]
    }
    steps = tracking_values.history_metrics(training, {"loss": [0.5, 0.4]})
    assert ("dec.loss", 0.25, 30) in steps
    assert ("dec.changed", 0.1, 30) in steps
    assert not [s for s in steps if s[0] == "dec.loss" and s[2] == 0]  # NaN dropped
    assert ("autoencoder.loss", 0.4, 1) in steps


def test_timings_become_seconds_per_pipeline_and_peak_memory():
    timings = {
        "seconds": 12.5,
        "nodes": [
            {"node": "a", "pipeline": "encoding", "seconds": 2.0, "peak_rss_mb": 500},
            {"node": "b", "pipeline": "encoding", "seconds": 3.0, "peak_rss_mb": 900},
            {
                "node": "c",
                "pipeline": "dec_clustering",
                "seconds": 4.0,
                "peak_rss_mb": 700,
            },
        ],
    }
    assert tracking_values.timing_metrics(timings) == {
        "time_s.encoding": 5.0,
        "time_s.dec_clustering": 4.0,
        "time_s.total": 12.5,
        "peak_rss_mb": 900.0,
    }


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///mlflow.db", "sqlite:////project/mlflow.db"),
        ("sqlite:///stores/m.db", "sqlite:////project/stores/m.db"),
        ("sqlite:////abs/m.db", "sqlite:////abs/m.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        (None, None),
    ],
)
def test_a_relative_sqlite_store_belongs_to_the_project(uri, expected):
    assert tracking._absolute_sqlite_uri(uri, "/project") == expected


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("", False),
        ("off", False),
        ("0", False),
        ("FALSE", False),
        ("on", True),
        ("1", True),
    ],
)
def test_the_switch_reads_the_environment(monkeypatch, value, on):
    monkeypatch.setenv(tracking.SWITCH_ENV_VAR, value)
    assert tracking.tracking_switch() is on


def test_tracking_is_off_unless_switched_on(monkeypatch):
    monkeypatch.delenv(tracking.SWITCH_ENV_VAR, raising=False)
    assert tracking.tracking_switch() is False


def test_an_unknown_switch_value_keeps_tracking_off_and_says_so(monkeypatch, caplog):
    monkeypatch.setenv(tracking.SWITCH_ENV_VAR, "maybe")
    with caplog.at_level(logging.WARNING, logger="netflix_dec.tracking"):
        assert tracking.tracking_switch() is False
    assert "not one of on/off" in caplog.text


def test_artifacts_go_under_their_data_layer():
    assert (
        tracking_values.layer_of(Path("/p/data/06_models/dec_model.keras"))
        == "06_models"
    )
    versioned = Path("/p/data/08_reporting/m.json/2026-01-01T00.00.00.000Z/m.json")
    assert tracking_values.layer_of(versioned) == "08_reporting"


# ---- a tracked run on the sample -----------------------------------------------------


@pytest.fixture(scope="module")
def swept_run_and_client(request):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    from mlflow.tracking import MlflowClient

    root = request.getfixturevalue("swept_sample_run")  # only when MLflow is here
    store = root / "mlflow.db"
    assert store.is_file()
    return root, MlflowClient(f"sqlite:///{store}")


@pytest.fixture(scope="module")
def mlflow_client(swept_run_and_client):
    return swept_run_and_client[1]


def _runs(client, name: str) -> list:
    experiment = client.get_experiment_by_name("netflix_dec")
    return [
        run
        for run in client.search_runs([experiment.experiment_id])
        if run.info.run_name == name
    ]


@pytest.mark.slow
def test_a_run_records_parameters_environment_and_input_file(mlflow_client):
    (run,) = _runs(mlflow_client, "__default__")
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["dec_clustering.n_clusters"] == "8"  # fast overrides base's 20
    assert params["encoding.features"] == "sentence"  # the --params override
    assert params["env"] == "fast"
    assert params["input_file"].endswith("netflix_titles_sample.csv")
    for group in ("data_processing", "encoding", "dec_clustering", "visualization"):
        assert any(key.startswith(f"{group}.") for key in params), group


@pytest.mark.slow
def test_a_run_records_the_clustering_metrics_timings_and_histories(
    swept_run_and_client,
):
    import json

    swept_sample_run, mlflow_client = swept_run_and_client
    (run,) = _runs(mlflow_client, "__default__")
    metrics = run.data.metrics
    report = json.loads(
        latest(
            swept_sample_run / "data/08_reporting/clustering_metrics.json"
        ).read_text()
    )
    for stage in ("kmeans_start", "final"):
        for score in ("nmi", "ari", "silhouette"):
            assert metrics[f"{stage}.{score}"] == pytest.approx(report[stage][score])
    assert metrics["dec.iterations"] >= 1
    assert metrics["dec.moved"] == pytest.approx(report["dec"]["moved"])
    assert 0 <= metrics["dec.moved"] <= 1
    for name in ("data_processing", "encoding", "dec_clustering", "visualization"):
        assert metrics[f"time_s.{name}"] > 0
    assert metrics["time_s.total"] >= metrics["time_s.encoding"]
    assert metrics["peak_rss_mb"] > 100
    training = json.loads(
        latest(swept_sample_run / "data/08_reporting/dec_training.json").read_text()
    )
    history = mlflow_client.get_metric_history(run.info.run_id, "dec.changed")
    assert [m.step for m in history] == [u["iteration"] for u in training["updates"]]
    assert mlflow_client.get_metric_history(run.info.run_id, "dec.loss")


@pytest.mark.slow
def test_a_run_keeps_models_plots_explorer_and_reports_as_artifacts(mlflow_client):
    (run,) = _runs(mlflow_client, "__default__")
    files = {
        f"{layer}/{item.path.split('/')[-1]}"
        for layer in ("06_models", "08_reporting")
        for item in mlflow_client.list_artifacts(run.info.run_id, layer)
    }
    expected = {
        "06_models/autoencoder.keras",
        "06_models/dec_model.keras",
        "08_reporting/cluster_map.png",
        "08_reporting/pretraining_loss.png",
        "08_reporting/cluster_explorer.html",
        "08_reporting/clustering_metrics.json",
        "08_reporting/dec_training.json",
        "08_reporting/run_timings.json",
    }
    assert expected <= files, expected - files


@pytest.mark.slow
def test_the_sweep_is_one_run_with_a_nested_run_per_k(mlflow_client):
    (parent,) = _runs(mlflow_client, "model_selection")
    assert parent.data.metrics["model_selection.suggested_k"] == 8
    children = mlflow_client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    ks = sorted(int(child.data.params["n_clusters"]) for child in children)
    assert ks == [4, 6, 7, 8, 9, 10, 12]
    for child in children:
        assert {"silhouette", "stability", "genre_nmi"} <= set(child.data.metrics)


# ---- tracking never fails a run ------------------------------------------------------


class _Records(logging.Handler):
    """Log records of the tracking module, as text."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.text += record.getMessage() + "\n"


@pytest.fixture
def tracking_log(monkeypatch):
    """What the tracking module logs during a run.

    A run configures logging from conf/logging.yml, which empties the handlers
    of the project's loggers (pytest's caplog included); a logger outside
    logging's registry is left alone.
    """
    handler = _Records()
    logger = logging.Logger("netflix_dec.tracking", logging.INFO)
    logger.addHandler(handler)
    monkeypatch.setattr(tracking, "logger", logger)
    return handler


@pytest.fixture
def processing_project(tmp_path: Path, monkeypatch) -> Path:
    root = make_project_copy(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(tracking.SWITCH_ENV_VAR, "on")
    monkeypatch.chdir(root)
    return root


@pytest.mark.slow
def test_a_run_with_an_unwritable_store_succeeds_with_a_warning(
    processing_project: Path, tmp_path: Path, tracking_log
):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    (processing_project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: sqlite:///{blocker}/mlflow.db\n"
    )
    run_kedro_session(processing_project, ["data_processing"])
    assert (processing_project / "data/03_primary/clean_titles.csv").is_file()
    assert "MLflow tracking failed while opening the store" in tracking_log.text
    assert "this run goes on without tracking" in tracking_log.text


def test_a_directory_named_like_the_store_is_reported_at_once(
    processing_project: Path, tracking_log
):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    store = processing_project / "mlflow.db"
    store.mkdir()
    run_kedro_session(processing_project, ["data_processing"])
    assert (processing_project / "data/03_primary/clean_titles.csv").is_file()
    # Before MLflow's own retries (about 100 s), and saying what is wrong.
    assert f"The MLflow store {store} is not a file" in tracking_log.text
    assert "this run goes on without tracking" in tracking_log.text


@pytest.mark.slow
def test_a_run_with_a_locked_store_succeeds_with_a_warning(
    processing_project: Path, tracking_log
):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    import sqlite3

    store = processing_project / "locked.db"
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("CREATE TABLE other_writer (x)")
    holder.execute(
        "BEGIN EXCLUSIVE"
    )  # another process writing, for as long as it likes
    (processing_project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: sqlite:///{store}\n"
    )
    try:
        run_kedro_session(processing_project, ["data_processing"])
    finally:
        holder.close()
    assert (processing_project / "data/03_primary/clean_titles.csv").is_file()
    assert "database is locked" in tracking_log.text
    assert "this run goes on without tracking" in tracking_log.text


@pytest.mark.slow
def test_tracking_can_be_switched_off_for_one_run(
    processing_project: Path, monkeypatch, tracking_log
):
    monkeypatch.setenv(tracking.SWITCH_ENV_VAR, "off")
    run_kedro_session(processing_project, ["data_processing"])
    assert (processing_project / "data/03_primary/clean_titles.csv").is_file()
    assert not (processing_project / "mlflow.db").exists()
    assert "MLflow tracking is off for this run" in tracking_log.text


@pytest.mark.slow
def test_two_projects_in_one_process_keep_their_own_stores(tmp_path: Path, monkeypatch):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(tracking.SWITCH_ENV_VAR, "on")
    roots = [make_project_copy(tmp_path / name) for name in ("one", "two")]
    for root in roots:
        monkeypatch.chdir(root)
        run_kedro_session(root, ["data_processing"])
    for root in roots:
        client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
        experiment = client.get_experiment_by_name("netflix_dec")
        (run,) = client.search_runs([experiment.experiment_id])
        assert run.data.tags["project_path"] == root.as_posix()


@pytest.mark.slow
def test_a_run_stopped_by_the_start_checks_leaves_no_open_run_behind(
    processing_project: Path, tmp_path: Path, monkeypatch, tracking_log
):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    import mlflow
    from mlflow.tracking import MlflowClient

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    monkeypatch.setenv(ENV_VAR, str(empty))
    with pytest.raises(Exception, match="empty"):
        run_kedro_session(processing_project, ["data_processing"])
    assert mlflow.active_run() is None
    monkeypatch.delenv(ENV_VAR)
    run_kedro_session(processing_project, ["data_processing"])
    assert "tracking failed" not in tracking_log.text
    client = MlflowClient(f"sqlite:///{processing_project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("netflix_dec")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"


def test_the_prepared_configuration_names_the_projects_own_store(tmp_path: Path):
    """mlflow.yml as the hook gets it: absolute SQLite path, an experiment name."""
    conf = {"server": {"mlflow_tracking_uri": "sqlite:///mlflow.db"}, "tracking": None}
    prepared = tracking.prepared_config(conf, tmp_path)
    store = (tmp_path / "mlflow.db").resolve().as_posix()
    assert prepared["server"]["mlflow_tracking_uri"] == f"sqlite:///{store}"
    assert prepared["tracking"]["experiment"]["name"] == "netflix_dec"
    assert conf == {
        "server": {"mlflow_tracking_uri": "sqlite:///mlflow.db"},
        "tracking": None,
    }
    named = {"tracking": {"experiment": {"name": "mine"}, "run": {"nested": False}}}
    prepared = tracking.prepared_config(named, tmp_path)
    assert prepared["tracking"] == {
        "experiment": {"name": "mine"},
        "run": {"nested": False},
    }
    assert prepared["server"] == {}  # kedro-mlflow's own default store then


def test_kedro_mlflows_hook_takes_the_configuration_set_on_the_loader(tmp_path: Path):
    """The public way in: Kedro's loader returns ``loader["mlflow"]`` as it was set.

    kedro-mlflow's ``after_context_created`` reads ``mlflow.yml`` through the
    loader, so the prepared configuration reaches it without private fields.
    """
    pytest.importorskip("kedro_mlflow", reason="kedro-mlflow not installed")
    import mlflow
    from kedro.config import OmegaConfigLoader
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: sqlite:///elsewhere.db\n"
    )
    loader = OmegaConfigLoader(
        str(tmp_path / "conf"), base_env="base", default_run_env="base"
    )
    loader.config_patterns["mlflow"] = ["mlflow*"]
    loader["mlflow"] = tracking.prepared_config(
        {"server": {"mlflow_tracking_uri": "sqlite:///mlflow.db"}}, tmp_path
    )
    context = SimpleNamespace(
        config_loader=loader,
        project_path=tmp_path,
        _get_config_credentials=dict,  # what kedro-mlflow asks a KedroContext for
    )
    hook, previous = MlflowHook(), mlflow.get_tracking_uri()
    try:
        hook.after_context_created(context)
    finally:
        mlflow.set_tracking_uri(previous)
    store = (tmp_path / "mlflow.db").resolve().as_posix()
    assert hook.mlflow_config.server.mlflow_tracking_uri == f"sqlite:///{store}"
    assert hook.mlflow_config.tracking.experiment.name == "netflix_dec"
    assert not (tmp_path / "elsewhere.db").exists()


@pytest.mark.slow
def test_a_run_inside_the_callers_mlflow_run_logs_into_it_and_leaves_it_open(
    processing_project: Path, tracking_log
):
    mlflow = pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{processing_project / 'caller.db'}"
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    # The caller's own experiment in its own store: an earlier tracked run in
    # this process leaves MLflow's active experiment id pointing elsewhere.
    experiment = MlflowClient(uri).create_experiment("caller")
    try:
        with mlflow.start_run(experiment_id=experiment) as caller:
            run_kedro_session(processing_project, ["data_processing"])
            active = mlflow.active_run()
            assert active is not None and active.info.run_id == caller.info.run_id
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(previous_uri)
    run = MlflowClient(uri).get_run(caller.info.run_id)
    assert run.data.params["env"] == "local"
    assert "data_processing.top_n" in run.data.params
    assert not (processing_project / "mlflow.db").exists()  # mlflow.yml's store
    assert "tracking failed" not in tracking_log.text


@pytest.mark.slow
def test_kedro_mlflows_own_switch_leaves_a_pipeline_untracked(
    processing_project: Path, tracking_log
):
    pytest.importorskip("mlflow", reason="kedro-mlflow/mlflow not installed")
    from mlflow.tracking import MlflowClient

    (processing_project / "conf/local/mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: sqlite:///mlflow.db\n"
        "tracking:\n  disable_tracking:\n    pipelines: [data_processing]\n"
    )
    run_kedro_session(processing_project, ["data_processing"])
    assert (processing_project / "data/03_primary/clean_titles.csv").is_file()
    client = MlflowClient(f"sqlite:///{processing_project / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert client.search_runs(experiments) == []
    assert "recorded in" not in tracking_log.text
    assert "tracking failed" not in tracking_log.text
