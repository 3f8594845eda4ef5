"""Record every run in MLflow through kedro-mlflow, without ever failing a run.

kedro-mlflow is the integration: its hook reads ``conf/<env>/mlflow.yml``,
picks the experiment, starts and ends the MLflow run and tags it with the run's
Kedro command. Its hooks switch themselves on when the package is installed,
and any error in them (a locked or read-only store, a full disk) would fail
the Kedro run. So ``settings.py`` disables the plugin's own registration
(``DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)``) and registers
:class:`TrackingHooks`, which drives one instance of kedro-mlflow's hook behind
a guard: the first tracking error logs a warning and the run goes on untracked.

What this project adds to kedro-mlflow's record: every parameter group
flattened (``dec_clustering.n_clusters``), the environment and input file, the
metrics of the reports the run wrote (see :data:`REPORT_METRICS`), the DEC loss
and label-change history as metric steps, time per pipeline and peak memory,
the files the run wrote as artifacts (models, plots, the explorer, JSON
reports), and one nested run per ``n_clusters`` of a model selection sweep; a run that
trains the DEC model also logs the served model (:mod:`netflix_dec.serving`)
and registers a new version of it. How those values are read from the
run's outputs is :mod:`netflix_dec.tracking_values`; this module drives
kedro-mlflow and logs them.

Nothing here imports MLflow until a pipeline starts with tracking on, so
``kedro viz``, notebooks and ``--help`` pay nothing for it.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from netflix_dec.catalog_entries import entry_configs, entry_path
from netflix_dec.dataset_names import (
    CLUSTERING_METRICS,
    DEC_MODEL,
    DEC_TRAINING,
    MODEL_SELECTION_REPORT,
    MODEL_SELECTION_TABLE,
    PARAMETERS,
    PRETRAINING_HISTORY,
    RAW_TITLES,
    RUN_TIMINGS,
)
from netflix_dec.storage.versions import RunVersions
from netflix_dec.telemetry import mlflow_telemetry_off
from netflix_dec.tracking_values import (
    flatten,
    history_metrics,
    layer_of,
    numeric_leaves,
    timing_metrics,
)

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.io import DataCatalog
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

# `NETFLIX_DEC_TRACKING=on kedro run ...` tracks a run. Off by default: opening
# the store and logging cost about 1.5-2.7 s a run (benchmarks/results), over
# the 2-second budget a default must keep, and a re-run takes about 15 s.
SWITCH_ENV_VAR = "NETFLIX_DEC_TRACKING"
_OFF = frozenset({"", "0", "false", "no", "off"})
_ON = frozenset({"1", "true", "yes", "on"})

# MLflow runs this process started: never taken for a caller's run.
_STARTED: set[str] = set()

# Files the run wrote that are worth keeping with the run, by suffix.
ARTIFACT_SUFFIXES = frozenset({".keras", ".png", ".html", ".json"})

# A tracked run that writes this dataset (trains DEC) logs and registers the
# served model (see TrackingHooks._log_served_model).
SERVED_MODEL_TRIGGER = DEC_MODEL

# Report dataset → prefix of the metrics taken from its numeric entries.
REPORT_METRICS = {
    CLUSTERING_METRICS: "",
    MODEL_SELECTION_REPORT: "model_selection.",
}


def tracking_switch() -> bool:
    """Whether this run is tracked, from ``NETFLIX_DEC_TRACKING`` (default off)."""
    value = os.environ.get(SWITCH_ENV_VAR, "").strip().lower()
    if value in _ON:
        return True
    if value not in _OFF:
        logger.warning(
            "%s=%r is not one of on/off (1/0, true/false, yes/no); tracking stays off.",
            SWITCH_ENV_VAR,
            value,
        )
    return False


class TrackingHooks:
    """kedro-mlflow's hook, guarded, plus this project's metrics and artifacts."""

    def __init__(self) -> None:
        self._context: KedroContext | None = None
        self._hook: Any = None  # kedro_mlflow's MlflowHook while a run is tracked
        self._client: Any = None  # MLflow's client of the run's store
        # Whether the caller started the MLflow run (theirs to end).
        self._callers_run = False
        self._seconds = 0.0  # spent on tracking in this run, wall
        self._cpu_seconds = 0.0  # and CPU (less disturbed by a busy machine)

    # ---- guard ---------------------------------------------------------------
    def _guarded(self, step: str, action: Callable[[], None]) -> None:
        if self._hook is None:
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            action()
        except Exception as error:  # tracking must never fail a run
            logger.warning(
                "MLflow tracking failed while %s (%s: %s); this run goes on without "
                "tracking. Check server.mlflow_tracking_uri in conf/*/mlflow.yml, or "
                "switch tracking off with %s=off.",
                step,
                type(error).__name__,
                str(error).splitlines()[0][:300] if str(error) else "",
                SWITCH_ENV_VAR,
            )
            self._abandon()
        finally:
            self._seconds += time.perf_counter() - started
            self._cpu_seconds += time.process_time() - cpu_started

    def _abandon(self) -> None:
        self._hook = None
        self._client = None
        try:
            import mlflow

            while mlflow.active_run():
                mlflow.end_run("FAILED")
        except Exception:  # the store may be what failed
            logger.debug("Could not close the MLflow run.", exc_info=True)

    # ---- hooks -----------------------------------------------------------------
    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        # Only remembered: the store is opened when a pipeline starts, so that
        # notebooks, `kedro viz` and `kedro catalog` never touch it.
        self._context = context

    # After the project's run-start checks: a run that stops there starts no
    # MLflow run (Kedro calls no error hook for it, which would close it).
    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        self._hook = None
        self._callers_run = False
        self._seconds = self._cpu_seconds = 0.0
        if self._context is None or not tracking_switch():
            logger.info(
                "MLflow tracking is off for this run (%s=on records it).",
                SWITCH_ENV_VAR,
            )
            return
        try:
            from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
        except ImportError:
            logger.info(
                "MLflow tracking is off: kedro-mlflow is not installed "
                "(pip install kedro-mlflow)."
            )
            return
        mlflow_telemetry_off()
        self._hook = MlflowHook()
        self._guarded("opening the store", self._open_store)
        self._guarded(
            "starting the run",
            lambda: self._hook.before_pipeline_run(
                run_params=run_params, pipeline=pipeline, catalog=catalog
            ),
        )
        if self._hook is not None and self._hook.run_id is None:
            # kedro-mlflow's own switch (tracking.disable_tracking.pipelines):
            # its hook started no run.
            self._client = None
            return
        if self._hook is not None and not self._callers_run:
            _STARTED.add(self._hook.run_id)
        self._guarded(
            "logging the parameters",
            lambda: self._log_start(run_params, catalog),
        )

    @hook_impl(trylast=True)  # after NodeTimingHooks has saved run_timings
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        if self._client is not None:
            self._guarded(
                "logging metrics and artifacts",
                lambda: self._log_results(pipeline, catalog),
            )
        if self._client is not None:
            self._log_served_model(pipeline, catalog)
        self._guarded(
            "ending the run",
            lambda: self._end_run(run_params, pipeline, catalog),
        )
        if self._hook is not None and self._client is not None:
            logger.info(
                "MLflow run %s recorded in %s (tracking took %.1f s, %.1f s of CPU).",
                self._hook.run_id,
                self._hook.mlflow_config.server.mlflow_tracking_uri,
                self._seconds,
                self._cpu_seconds,
            )
        self._hook = None
        self._client = None

    @hook_impl
    def on_pipeline_error(
        self,
        error: Exception,
        run_params: dict[str, Any],
        pipeline: Pipeline,
        catalog: DataCatalog,
    ) -> None:
        self._guarded(
            "closing the failed run",
            lambda: self._hook.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            ),
        )
        self._hook = None
        self._client = None

    def _end_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        import mlflow

        self._hook.after_pipeline_run(
            run_params=run_params, pipeline=pipeline, catalog=catalog
        )
        if self._callers_run:  # the caller's run: theirs to end
            return
        # Nothing of this run may stay active for the next session in this process.
        while (
            active := mlflow.active_run()
        ) and active.info.run_id == self._hook.run_id:
            mlflow.end_run()

    # ---- what is logged --------------------------------------------------------
    def _open_store(self) -> None:
        """kedro-mlflow's set-up from ``mlflow.yml``, its SQLite store checked first.

        The hook's public ``after_context_created`` reads ``mlflow.yml`` and
        opens the store. Two things must happen before it does: a SQLite path
        is made absolute (kedro-mlflow would hand ``sqlite:///mlflow.db`` to
        MLflow as it is, SQLite then opens it from the working directory, and
        MLflow keeps one store per URI, so two projects run in one process
        would share the first one's file), and a store that cannot be opened
        is refused at once (MLflow retries it for about 100 s). So the
        configuration is read and prepared here, and set on Kedro's config
        loader under ``mlflow``, which returns a key set on it as it is.
        """
        import mlflow
        from kedro_mlflow.config.resolvers import resolve_random_name
        from omegaconf import OmegaConf

        context = self._context
        # A run of ours that a failure left open in this process is closed.
        while (active := mlflow.active_run()) and active.info.run_id in _STARTED:
            mlflow.end_run("FAILED")
        self._callers_run = mlflow.active_run() is not None
        if not self._callers_run:  # else kedro-mlflow logs into the caller's run
            if not OmegaConf.has_resolver("km.random_name"):
                OmegaConf.register_new_resolver(
                    "km.random_name", resolve_random_name, use_cache=True
                )
            loader = context.config_loader
            loader["mlflow"] = prepared_config(
                _read_mlflow_yml(loader), context.project_path
            )
        self._hook.after_context_created(context)
        server = self._hook.mlflow_config.server
        self._client = mlflow.MlflowClient(
            tracking_uri=server.mlflow_tracking_uri,
            registry_uri=server.mlflow_registry_uri,
        )

    def _log_start(self, run_params: dict[str, Any], catalog: DataCatalog) -> None:
        from mlflow.entities import Param, RunTag

        parameters = catalog.load(PARAMETERS) if PARAMETERS in catalog else {}
        params = {key: _param_text(value) for key, value in flatten(parameters).items()}
        params["env"] = run_params.get("env") or "local"
        source = _input_file(catalog)
        if source:
            params["input_file"] = source
        tags = {"env": params["env"], "input_file": source or ""}
        self._client.log_batch(
            self._hook.run_id,
            params=[Param(key, value) for key, value in sorted(params.items())],
            tags=[RunTag(key, value) for key, value in tags.items() if value],
        )

    def _log_results(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        from mlflow.entities import Metric

        produced = pipeline.all_outputs()

        def load(name: str) -> Any:
            return catalog.load(name) if name in produced and name in catalog else None

        metrics: dict[str, float] = {}
        for name, prefix in REPORT_METRICS.items():
            metrics.update(numeric_leaves(load(name) or {}, prefix))
        training = load(DEC_TRAINING)
        if training:
            metrics["dec.iterations"] = float(training["iterations"])
            metrics["dec.seconds"] = float(training.get("seconds", math.nan))
        if RUN_TIMINGS in catalog:
            metrics.update(timing_metrics(catalog.load(RUN_TIMINGS)))
        steps = [
            (key, value, 0) for key, value in metrics.items() if math.isfinite(value)
        ]
        steps += history_metrics(training, load(PRETRAINING_HISTORY))
        run_id = self._hook.run_id
        timestamp = _now_ms()
        self._client.log_batch(
            run_id,
            metrics=[Metric(key, value, timestamp, step) for key, value, step in steps],
        )
        self._log_artifacts(run_id, sorted(produced | {RUN_TIMINGS}), catalog)
        sweep = load(MODEL_SELECTION_TABLE)
        if sweep is not None:
            self._log_sweep(run_id, sweep)

    def _log_served_model(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        """A run that trained the DEC model logs it as the served model, registered.

        The model is the one ``kedro run --pipelines export_model`` writes
        (:mod:`netflix_dec.serving`), logged under ``served_model`` and
        registered as a new version of ``export_model.registered_model_name``.
        A failure here is a warning: the run's other records stay.
        """
        if SERVED_MODEL_TRIGGER not in pipeline.all_outputs():
            return
        started = time.perf_counter()
        try:
            from netflix_dec import serving
            from netflix_dec.params import ExportModelParams
            from netflix_dec.pipelines.export_model import (
                artifact_names,
                create_inference_pipeline,
            )
            from netflix_dec.pipelines.export_model.nodes import export_model

            params = ExportModelParams.model_validate(
                catalog.load("params:export_model")
            )
            artifacts = {name: catalog.load(name) for name in artifact_names()}
            info = serving.log_served_model(
                export_model(create_inference_pipeline(), params, **artifacts),
                params.registered_model_name,
            )
            logger.info(
                "Served model logged (%s) and registered as %s version %s.",
                info.model_uri,
                params.registered_model_name,
                info.registered_model_version,
            )
        except Exception as error:  # the run's other records are worth keeping
            logger.warning(
                "Could not log the served model (%s: %s); export it with "
                "`kedro run --pipelines export_model`.",
                type(error).__name__,
                str(error).splitlines()[0][:300] if str(error) else "",
            )
        finally:
            self._seconds += time.perf_counter() - started

    def _log_artifacts(
        self, run_id: str, names: list[str], catalog: DataCatalog
    ) -> None:
        """Each file the run wrote, under its data layer (``06_models/dec_model.keras``)."""
        for name in names:
            dataset = catalog.get(name) if name in catalog else None
            # The project's file datasets (every artifact is one) say which
            # file a load reads now: the run's own version when versioned.
            path = dataset.current_file() if isinstance(dataset, RunVersions) else None
            if path is None or path.suffix not in ARTIFACT_SUFFIXES:
                continue
            layer = layer_of(path)
            self._client.log_artifact(run_id, str(path), artifact_path=layer)

    def _log_sweep(self, parent_id: str, table: Any) -> None:
        """One nested run per ``n_clusters`` of the model selection sweep."""
        from mlflow.entities import Metric, Param

        parent = self._client.get_run(parent_id)
        timestamp = _now_ms()
        for row in table.to_dict(orient="records"):
            k = int(row["n_clusters"])
            child = self._client.create_run(
                parent.info.experiment_id,
                run_name=f"n_clusters={k}",
                tags={"mlflow.parentRunId": parent_id, "sweep": "model_selection"},
            )
            metrics = [
                Metric(key, float(value), timestamp, 0)
                for key, value in row.items()
                if key != "n_clusters"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            ]
            self._client.log_batch(
                child.info.run_id,
                metrics=metrics,
                params=[Param("n_clusters", str(k))],
            )
            self._client.set_terminated(child.info.run_id)


def _read_mlflow_yml(loader: Any) -> dict[str, Any]:
    """``mlflow.yml`` of the run's environment, or ``{}`` when there is none."""
    from kedro.config import MissingConfigException

    loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    try:
        return dict(loader["mlflow"])
    except MissingConfigException:
        return {}


def prepared_config(conf: dict[str, Any], project_path: str | Path) -> dict[str, Any]:
    """``mlflow.yml`` as this project runs it: the store checked, its path absolute.

    The experiment is named after the package when ``mlflow.yml`` names none
    (kedro-mlflow's default too, which it cannot find in every session).

    Raises:
        OSError: The SQLite store cannot be opened (see :func:`check_sqlite_store`).
    """
    from kedro.framework import project

    conf = copy.deepcopy(conf)
    server = conf["server"] = conf.get("server") or {}
    uri = _absolute_sqlite_uri(server.get("mlflow_tracking_uri"), project_path)
    if uri is not None:
        server["mlflow_tracking_uri"] = uri
    check_sqlite_store(uri)
    tracking = conf["tracking"] = conf.get("tracking") or {}
    experiment = tracking["experiment"] = tracking.get("experiment") or {}
    if not experiment.get("name"):
        experiment["name"] = project.PACKAGE_NAME or "netflix_dec"
    return conf


def check_sqlite_store(uri: str | None) -> None:
    """Refuse at once a SQLite store MLflow could not open.

    MLflow retries a store it cannot open for about 100 s before it fails
    (a directory named ``mlflow.db``, a folder that cannot be written); this
    says what is wrong within a moment, and the run goes on untracked.

    Raises:
        OSError: Naming the path and what is wrong with it.
    """
    prefix = "sqlite:///"
    if not uri or not uri.startswith(prefix):
        return
    path = Path(uri[len(prefix) :])
    if path.exists() and not path.is_file():
        raise OSError(
            f"The MLflow store {path} is not a file (a directory?): move it away, or "
            "set mlflow_tracking_uri in conf/*/mlflow.yml to another file."
        )
    folder = path if path.exists() else path.parent
    if folder != path and not folder.is_dir():
        raise OSError(
            f"The MLflow store {path} cannot be made: {folder} is not a folder."
        )
    if not os.access(folder, os.W_OK):
        raise OSError(
            f"The MLflow store {path} cannot be written ({folder} is read-only): "
            "set mlflow_tracking_uri in conf/*/mlflow.yml to a writable place."
        )


def _absolute_sqlite_uri(uri: str | None, root: str | Path) -> str | None:
    """``sqlite:///mlflow.db`` → ``sqlite:////<project>/mlflow.db``.

    SQLite opens a relative path from the working directory of each new
    connection; the store belongs to the project, wherever Kedro is run from.
    """
    prefix = "sqlite:///"
    if not uri or not uri.startswith(prefix) or uri.startswith(prefix + "/"):
        return uri
    relative = uri[len(prefix) :]
    if relative.startswith(":memory:") or not relative:
        return uri
    return prefix + (Path(root) / relative).resolve().as_posix()


def _param_text(value: Any) -> str:
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    text = str(value)
    return text if len(text) <= MAX_PARAM_VAL_LENGTH else text[:MAX_PARAM_VAL_LENGTH]


def _input_file(catalog: DataCatalog) -> str | None:
    config = entry_configs(catalog).get(RAW_TITLES)
    return entry_path(config) if config else None


def _now_ms() -> int:
    return int(time.time() * 1000)
