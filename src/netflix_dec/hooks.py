"""Hooks that make a run say what it used and fail fast on a bad input file."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from pydantic import BaseModel

from netflix_dec.inputs import describe_source
from netflix_dec.pipelines.data_processing.nodes import check_titles_file
from netflix_dec.sample import SAMPLE_PATH

logger = logging.getLogger(__name__)

RAW_DATASET = "raw_titles"


class RunInfoHooks:
    """Log the input file, environment and parameters; check the input file."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        env = run_params.get("env") or "local (the default)"
        logger.info("Environment: base + %s.", env)
        parameters = catalog.load("parameters") if "parameters" in catalog else {}
        for group, values in parameters.items():
            logger.info("Parameters %s: %s", group, _compact(values))
        if RAW_DATASET not in pipeline.inputs():
            return
        path = catalog.get(RAW_DATASET)._describe().get("filepath")
        logger.info(describe_source(path, SAMPLE_PATH))
        check_titles_file(path, catalog.load("params:data_processing").types)


def _compact(values: Any) -> str:
    """Parameters on one line, as ``key=value`` pairs."""
    if isinstance(values, BaseModel):
        values = values.model_dump()
    if isinstance(values, dict):
        return ", ".join(f"{key}={value}" for key, value in values.items())
    return str(values)
