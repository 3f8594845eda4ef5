"""Project pipelines: each folder under ``pipelines/`` plus their sum."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Pipelines that run on request, never as part of training: `assign` places new
# titles with a trained model; `model_selection` sweeps n_clusters on what the
# default run cached; `export_model` writes the served model.
ON_REQUEST = ("assign", "model_selection", "export_model")


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline and a default made of the training ones.

    ``assign`` and ``model_selection`` run on request
    (``kedro run --pipelines assign``), never as part of training.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    # Kedro may load only the pipelines a run asks for: the start value keeps
    # the default a Pipeline when none of the training ones was loaded.
    pipelines["__default__"] = sum(
        (pipe for name, pipe in pipelines.items() if name not in ON_REQUEST),
        start=Pipeline([]),
    )
    return pipelines
