"""Export the served model: what the inference pipeline answers, and the bundle.

The inference pipeline is the assign pipeline's own path to
``assigned_titles`` (see :func:`..pipeline.create_inference_pipeline`); the
one node added here shapes its answer. :func:`export_model` gathers the saved
training outputs the pipeline reads into a bundle that
:class:`netflix_dec.serving.ServedModelDataset` writes as an MLflow model.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from netflix_dec.naming import cluster_names
from netflix_dec.params import PARAMETER_GROUPS, ExportModelParams
from netflix_dec.serving import OUTPUT_COLUMNS, ServedModelBundle


def serve_assignments(
    assigned_titles: pd.DataFrame, cluster_summary: dict[str, Any], *by_products: Any
) -> pd.DataFrame:
    """The served answer: each assigned title with its cluster's name.

    Args:
        assigned_titles: The assign pipeline's table, one row per title.
        cluster_summary: The training run's summary, which names the clusters.
        *by_products: The assign pipeline's other outputs (its report, the
            new titles' features and embeddings, drawn on its map), which
            a served model does not return; taken here so that the pipeline
            has the one output kedro-mlflow's model needs.

    Returns:
        ``show_id``, ``title``, ``cluster``, ``cluster_name``, ``confidence``,
        ``runner_up``, ``novel``, ``seen``, in the request's order.
    """
    names = cluster_names(cluster_summary)
    answer = assigned_titles.assign(
        show_id=assigned_titles["show_id"].astype(str),
        title=assigned_titles["title"].astype(str),
        cluster_name=assigned_titles["cluster"].map(names).fillna(""),
    )
    return answer.loc[:, list(OUTPUT_COLUMNS)]


def export_model(params: ExportModelParams, **artifacts: Any) -> ServedModelBundle:
    """The served model's parts: the inference pipeline and what it reads.

    Args:
        params: ``export_model`` parameters (the request size limit).
        **artifacts: Each input of the inference pipeline but the new titles,
            loaded, by dataset name (``params:<group>`` for parameters).

    Returns:
        The bundle ``served_model`` saves as an MLflow model folder.
    """
    from .pipeline import create_inference_pipeline

    values = {name: _validated(name, value) for name, value in artifacts.items()}
    return ServedModelBundle(create_inference_pipeline(), values, params.max_rows)


def _validated(name: str, value: Any) -> Any:
    """A ``params:<group>`` as its Pydantic model, as Kedro hands it to nodes."""
    group = name.removeprefix("params:")
    if name.startswith("params:") and group in PARAMETER_GROUPS:
        model = PARAMETER_GROUPS[group]
        return value if isinstance(value, model) else model.model_validate(value)
    return value
