"""Usage telemetry off, Kedro's and MLflow's, unless the user opted in.

The one home of both switches: the package turns Kedro's off when it is
imported (:func:`kedro_telemetry_off`), and settings, tracking and the served
model call :func:`mlflow_telemetry_off` before they use MLflow. No MLflow
import here: a run that never tracks pays nothing for it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

MLFLOW_SWITCH = "MLFLOW_DISABLE_TELEMETRY"
KEDRO_SWITCH = "KEDRO_DISABLE_TELEMETRY"


def kedro_telemetry_off() -> None:
    """Keep Kedro's usage telemetry off wherever the package runs, unless opted in.

    Kedro installs kedro-telemetry, which asks for consent and sends usage data
    unless a ``.telemetry`` file in the folder it runs from says otherwise:
    the project's own says ``consent: false``, but ``netflix-dec`` or
    ``python -m netflix_dec`` run from another folder would still send. Its
    documented switch, ``KEDRO_DISABLE_TELEMETRY``, is set here (on import,
    before any Kedro hook runs) unless the user opted in: the variable or
    ``DO_NOT_TRACK`` already set, or a ``.telemetry`` with ``consent: true``.
    """
    if os.environ.get(KEDRO_SWITCH) or os.environ.get("DO_NOT_TRACK"):
        return
    try:
        consent = Path(".telemetry").read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        consent = []
    if consent[-2:] != ["consent:", "true"]:
        os.environ[KEDRO_SWITCH] = "1"


def mlflow_telemetry_off() -> None:
    """MLflow's usage telemetry stays off, as Kedro's does, unless the user opted in.

    MLflow reads ``MLFLOW_DISABLE_TELEMETRY`` when it starts its telemetry
    client, on import; where MLflow was imported before this (a notebook, the
    scoring server loading the served model), the client is started again so
    that it reads the variable.
    """
    os.environ.setdefault(MLFLOW_SWITCH, "true")
    if "mlflow" not in sys.modules:
        return
    try:
        from mlflow.telemetry.client import set_telemetry_client

        set_telemetry_client()
    except Exception:
        logger.debug("Could not reset MLflow's telemetry client.", exc_info=True)
