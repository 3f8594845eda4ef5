"""Project pipelines: each folder under ``pipelines/`` plus their sum."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Pipelines that use a trained model rather than make one.
ON_REQUEST = ("assign",)


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline and a default made of the training ones.

    ``assign`` places new titles with a trained model: it runs on request
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
