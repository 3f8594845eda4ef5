"""export_model: write the served model (not part of the default run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro.pipeline import Pipeline, node, pipeline

from netflix_dec.dataset_names import (
    ASSIGNED_TITLES,
    CLUSTER_SUMMARY,
    SERVED_ASSIGNMENTS,
    SERVED_MODEL,
)
from netflix_dec.params import ExportModelParams
from netflix_dec.pipelines import assign
from netflix_dec.serving_contract import INPUT_NAME, ServedModelBundle

from . import nodes


def create_inference_pipeline() -> Pipeline:
    """New titles → their clusters, by the assign pipeline's own nodes.

    The nodes are those ``assign`` runs to make ``assigned_titles`` (checks,
    features, the DEC model, the calibration), taken from its pipeline rather
    than listed again, so a change to ``assign`` is a change to the served
    model. One node adds the clusters' names and is the one output.
    """
    assigning = assign.create_pipeline().to_outputs(ASSIGNED_TITLES)
    by_products = sorted(assigning.outputs() - {ASSIGNED_TITLES})
    answer = node(
        nodes.serve_assignments,
        [ASSIGNED_TITLES, CLUSTER_SUMMARY, *by_products],
        SERVED_ASSIGNMENTS,
        name="serve_assignments",
    )
    return assigning + pipeline([answer], tags="serving")


def artifact_names() -> list[str]:
    """The inference pipeline's inputs but the new titles: what a model packs."""
    return sorted(create_inference_pipeline().inputs() - {INPUT_NAME})


def _bound_export(inference: Pipeline) -> Callable[..., ServedModelBundle]:
    """The export node with its inference pipeline bound, bound here so that
    nodes.py needs nothing of this module.

    A function, not a ``functools.partial``: Kedro reads a node's type hints to
    type its ``params:`` inputs, and warned on every run that it could not
    read a partial's.
    """

    def export_model(params: ExportModelParams, **artifacts: Any) -> ServedModelBundle:
        return nodes.export_model(inference, params, **artifacts)

    return export_model


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                _bound_export(create_inference_pipeline()),
                {"params": "params:export_model"}
                | {name: name for name in artifact_names()},
                SERVED_MODEL,
                name="export_model",
            )
        ],
        tags="export_model",
    )
