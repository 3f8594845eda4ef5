"""What a request to the served model holds, what it answers, what it is made of.

The served model (:mod:`netflix_dec.served_model`), the export pipeline that
shapes its answer and :mod:`netflix_dec.serving`, which writes it, all read
the request's and the answer's columns from here. Nothing here imports MLflow
until a request is refused or a signature is written, nor any pipeline: the
pipelines import this module, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from netflix_dec.catalogue import NEW_TITLES_COLUMNS
from netflix_dec.dataset_names import NEW_TITLES

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

# The request fills the new titles of the assign pipeline's inference part,
# with the columns every new title needs (catalogue.py's contract).
INPUT_NAME = NEW_TITLES
OUTPUT_COLUMNS = (
    "show_id",
    "title",
    "cluster",
    "cluster_name",
    "confidence",
    "runner_up",
    "novel",
    "seen",
)


def bad_request(message: str) -> Exception:
    """An error MLflow's scoring server answers with a 400 and ``message``."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def check_request(model_input: Any, max_rows: int) -> pd.DataFrame:
    """The request as a table of titles, refused before any work if it cannot be.

    The checks of the titles themselves (a blank description, a repeated
    ``show_id``) are the assign pipeline's own, run by the pipeline.

    Raises:
        MlflowException: ``INVALID_PARAMETER_VALUE`` (HTTP 400) naming what is
            wrong: not a table, no row, more than ``max_rows`` rows, or a
            required column missing.
    """
    if isinstance(model_input, pd.DataFrame):
        titles = model_input
    else:
        try:
            titles = pd.DataFrame(model_input)
        except (TypeError, ValueError) as error:
            raise bad_request(
                f"Expected a table of titles with columns {list(NEW_TITLES_COLUMNS)}, "
                f"got {type(model_input).__name__}: {error}"
            ) from None
    if len(titles) > max_rows:
        raise bad_request(
            f"{len(titles)} titles in one request; the limit is {max_rows} "
            "(export_model.max_rows when the model was exported): send them "
            "in smaller requests."
        )
    if titles.empty:
        raise bad_request("The request holds no title: nothing to assign.")
    missing = [column for column in NEW_TITLES_COLUMNS if column not in titles.columns]
    if missing:
        raise bad_request(
            f"The titles lack column(s) {missing}; each title needs "
            f"{list(NEW_TITLES_COLUMNS)}. Columns found: {list(titles.columns)}."
        )
    return titles.reset_index(drop=True)


def signature() -> Any:
    """The request's columns (all required strings) and the answer's."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec("string", name) for name in NEW_TITLES_COLUMNS])
    types = {
        "show_id": "string",
        "title": "string",
        "cluster": "long",
        "cluster_name": "string",
        "confidence": "double",
        "runner_up": "long",
        "novel": "boolean",
        "seen": "boolean",
    }
    outputs = Schema([ColSpec(types[name], name) for name in OUTPUT_COLUMNS])
    return ModelSignature(inputs=inputs, outputs=outputs)


@dataclass(frozen=True)
class ServedModelBundle:
    """What a served model is made of, before it is written.

    Attributes:
        pipeline: The inference pipeline, one input (:data:`INPUT_NAME`) and
            one output.
        artifacts: The loaded value of every other input of the pipeline
            (training outputs and ``params:`` groups), by dataset name.
        max_rows: Titles one request may hold.
    """

    pipeline: Pipeline
    artifacts: dict[str, Any]
    max_rows: int
