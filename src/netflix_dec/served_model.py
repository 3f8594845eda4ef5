"""The served model's class: kedro-mlflow's pipeline model, made for a server.

Kept apart from :mod:`netflix_dec.serving` because importing it imports
kedro-mlflow and MLflow (about 2 s): only saving and loading a served model
pay for them. See :mod:`netflix_dec.serving` for what the model is. Saved
models name this module and class (MLflow pickles the instance), so both stay
where they are. It imports neither :mod:`netflix_dec.serving` nor tracking:
the request's checks come from :mod:`netflix_dec.serving_contract`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro_mlflow.mlflow import KedroPipelineModel

from netflix_dec.dataset_names import TEXT_ENCODER
from netflix_dec.serving_contract import bad_request, check_request
from netflix_dec.telemetry import mlflow_telemetry_off

# What warms a model up when it is loaded.
_WARM_UP = {
    "show_id": ["warm-up"],
    "title": ["Warm-up"],
    "description": ["A title that warms the model up before the first request."],
}


class ServedModel(KedroPipelineModel):
    """kedro-mlflow's pipeline model: loaded once per server, a 400 for bad input.

    Args:
        pipeline: The inference pipeline (one input, one output).
        catalog: A dataset for each other input of the pipeline.
        input_name: The input the request fills.
        max_rows: Titles one request may hold.
    """

    def __init__(
        self, pipeline: Pipeline, catalog: DataCatalog, input_name: str, max_rows: int
    ) -> None:
        super().__init__(pipeline, catalog, input_name, copy_mode="assign")
        self.max_rows = int(max_rows)

    def load_context(self, context: Any) -> None:
        """Load the artifacts, open the sentence model, trace the compiled steps."""
        import netflix_dec.dec  # noqa: F401  (registers ClusteringLayer for Keras)
        from netflix_dec.encoders import from_settings

        mlflow_telemetry_off()  # unless the user opted in
        super().load_context(context)
        # The saved text encoder: its sentence model is opened once per server.
        if TEXT_ENCODER in self.loaded_catalog:
            from_settings(self.loaded_catalog.load(TEXT_ENCODER)).keep_open()
        # The first call traces the compiled steps: the server's start pays
        # for it, not its first request.
        self._run(pd.DataFrame(_WARM_UP))

    def predict(
        self, context: Any, model_input: Any, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """One row per title: its cluster, the cluster's name, confidence, ...

        Raises:
            MlflowException: ``INVALID_PARAMETER_VALUE`` (a 400 from the
                server) for a request the model refuses, with the reason.
        """
        from netflix_dec.pipelines.assign.nodes import NewTitlesError

        titles = check_request(model_input, self.max_rows)
        try:
            return self._run(titles)
        except NewTitlesError as error:
            raise bad_request(str(error)) from None

    def _run(self, titles: pd.DataFrame) -> pd.DataFrame:
        """The pipeline on one request, sharing the loaded artifacts.

        kedro-mlflow's ``predict`` deep-copies its whole catalogue per call
        (the Keras model and the training titles: 60 ms on the planted
        sample), and a copied model is traced again. Each request gets its
        own catalogue instead, holding the same loaded datasets (read only)
        and its own input; the pipeline's outputs are its own too.
        """
        datasets = {
            name: self.loaded_catalog.get(name)
            for name in self.loaded_catalog.keys()
            if name != self.input_name
        }
        datasets[self.input_name] = MemoryDataset(titles, copy_mode="assign")
        with _quiet(QUIET_LOGGERS):
            outputs = self.runner.run(
                pipeline=self.pipeline, catalog=DataCatalog(datasets)
            )
        return outputs[self.output_name].load()


# A request would log about 30 INFO lines (each node and dataset) through
# Kedro's rich handler: 30 ms of a 1-title request. A server logs its
# requests itself; warnings and errors still show.
QUIET_LOGGERS = ("kedro", "netflix_dec")


@contextmanager
def _quiet(names: tuple[str, ...]) -> Iterator[None]:
    """Only warnings and errors from ``names`` while a request runs."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
