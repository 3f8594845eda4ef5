"""What a tracked run records, read from the run's own outputs; no MLflow here.

Parameters flattened to ``group.key``, the numbers of the JSON reports and the
DEC and autoencoder histories as metrics, seconds per pipeline and peak
memory from ``run_timings``, and the data layer of a saved file (which file an
entry saved: :meth:`netflix_dec.storage.versions.RunVersions.current_file`).
:mod:`netflix_dec.tracking` logs them in MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    """Nested parameters as ``group.key`` pairs, the way MLflow compares runs."""
    if isinstance(values, BaseModel):
        values = values.model_dump()
    if isinstance(values, Mapping):
        flat: dict[str, Any] = {}
        for key, value in values.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): values}


def numeric_leaves(values: Any, prefix: str = "") -> dict[str, float]:
    """The finite numbers of a JSON report as metrics (booleans and text left out)."""
    if isinstance(values, Mapping):
        out: dict[str, float] = {}
        for key, value in values.items():
            out.update(numeric_leaves(value, f"{prefix}{key}."))
        return out
    if isinstance(values, bool) or not isinstance(values, int | float):
        return {}
    if not math.isfinite(values):
        return {}
    return {prefix.rstrip("."): float(values)}


def history_metrics(
    training: Mapping[str, Any] | None, pretraining: Mapping[str, Any] | None
) -> list[tuple[str, float, int]]:
    """(name, value, step) for the DEC updates and the autoencoder epochs."""
    steps: list[tuple[str, float, int]] = []
    for update in (training or {}).get("updates", []):
        for key in ("loss", "changed", "clusters"):
            value = update.get(key)
            if isinstance(value, int | float) and math.isfinite(value):
                steps.append((f"dec.{key}", float(value), int(update["iteration"])))
    for key, values in (pretraining or {}).items():
        if isinstance(values, list):
            steps.extend(
                (f"autoencoder.{key}", float(value), epoch)
                for epoch, value in enumerate(values)
                if isinstance(value, int | float) and math.isfinite(value)
            )
    return steps


def timing_metrics(timings: Mapping[str, Any] | None) -> dict[str, float]:
    """Seconds per pipeline, the whole run's seconds and the peak memory."""
    if not timings:
        return {}
    per_pipeline: dict[str, float] = {}
    for record in timings.get("nodes", []):
        name = record.get("pipeline") or "other"
        per_pipeline[name] = per_pipeline.get(name, 0.0) + record["seconds"]
    metrics = {f"time_s.{name}": round(s, 3) for name, s in per_pipeline.items()}
    metrics["time_s.total"] = float(timings.get("seconds", sum(per_pipeline.values())))
    peaks = [record["peak_rss_mb"] for record in timings.get("nodes", [])]
    if peaks:
        metrics["peak_rss_mb"] = float(max(peaks))
    return metrics


def layer_of(path: Path) -> str:
    """The data layer folder of a file, above any version folders."""
    for parent in path.parents:
        if parent.parent.name == "data":
            return parent.name
    return path.parent.name
