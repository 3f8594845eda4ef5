"""netflix-dec"""

import os
from pathlib import Path

__version__ = "0.1"


def _telemetry_off() -> None:
    """Keep Kedro's usage telemetry off wherever the package runs, unless opted in.

    Kedro installs kedro-telemetry, which asks for consent and sends usage data
    unless a ``.telemetry`` file in the folder it runs from says otherwise:
    the project's own says ``consent: false``, but ``netflix-dec`` or
    ``python -m netflix_dec`` run from another folder would still send. Its
    documented switch, ``KEDRO_DISABLE_TELEMETRY``, is set here (on import,
    before any Kedro hook runs) unless the user opted in: the variable or
    ``DO_NOT_TRACK`` already set, or a ``.telemetry`` with ``consent: true``.
    """
    if os.environ.get("KEDRO_DISABLE_TELEMETRY") or os.environ.get("DO_NOT_TRACK"):
        return
    try:
        consent = Path(".telemetry").read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        consent = []
    if consent[-2:] != ["consent:", "true"]:
        os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"


_telemetry_off()
