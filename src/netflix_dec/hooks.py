"""The run-start hook: what a run says it uses, then its checks, before any node.

A run's first log lines come from :class:`RunInfoHooks`: the environment,
every parameter group and the files it reads. It then runs the checks that
make a run that cannot finish stop before its first node: the parameters'
(:mod:`netflix_dec.params`), then the inputs' and the titles'
(:mod:`netflix_dec.run_checks`). Timing and memory have their own hooks
(:mod:`netflix_dec.timing`); MLflow tracking too (:mod:`netflix_dec.tracking`).
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from pydantic import BaseModel

from netflix_dec.catalog_entries import entry_configs, wrapped_type
from netflix_dec.catalogue import describe_source, source_of
from netflix_dec.dataset_names import NEW_TITLES, PARAMETERS, RAW_TITLES
from netflix_dec.params import check_parameter_groups, group_model
from netflix_dec.run_checks import check_inputs_exist, check_new_titles, check_titles

logger = logging.getLogger(__name__)


class RunInfoHooks:
    """Say what the run uses (environment, parameters, files); check it can finish."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        env = run_params.get("env") or "local (the default)"
        logger.info("Environment: base + %s.", env)
        parameters = catalog.load(PARAMETERS) if PARAMETERS in catalog else {}
        check_parameter_groups(parameters)
        for group, values in parameters.items():
            logger.info("Parameters %s: %s", group, _compact(values))
        if "params:encoding" in pipeline.inputs():
            # A dict where no node of the run types it EncodingParams
            # (export_model's node takes it untyped).
            encoding = group_model("encoding", catalog.load("params:encoding"))
            from netflix_dec.encoders import encoder_type

            # Raises, saying how to install it, if the encoder's model is missing.
            encoder_type(encoding.features).check_installed()
        check_inputs_exist(pipeline, catalog)
        register_model_layers(pipeline, catalog)
        if NEW_TITLES in pipeline.inputs():
            logger.info(
                "New titles to assign: %s.", source_of(catalog, NEW_TITLES)["path"]
            )
            check_new_titles(catalog)
        if RAW_TITLES in pipeline.inputs():
            logger.info(describe_source(source_of(catalog, RAW_TITLES)["path"]))
        check_titles(pipeline, catalog)


def register_model_layers(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Register the project's Keras layers when the run loads a saved model.

    ``dec_model.keras`` names ``ClusteringLayer``, which Keras can rebuild only
    once :mod:`netflix_dec.dec` has registered it. Nodes import that module
    lazily, so a run that starts from saved models (``--pipelines assign``)
    would otherwise load a model before anything imported it.
    """
    configs = entry_configs(catalog)
    for name in pipeline.inputs():
        if "TensorFlowModelDataset" in wrapped_type(configs.get(name, {})):
            import netflix_dec.dec  # noqa: F401, PLC0415  (registers the layers)

            return


def _compact(values: Any) -> str:
    """Parameters on one line, as ``key=value`` pairs."""
    if isinstance(values, BaseModel):
        values = values.model_dump()
    if isinstance(values, dict):
        return ", ".join(f"{key}={value}" for key, value in values.items())
    return str(values)
