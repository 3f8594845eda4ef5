"""The pipelines as an Airflow 3 DAG: create it, then run it with `airflow dags test`.

Airflow lives in its own environment (the ``[airflow]`` extra; ``.ci/run`` makes
it), named by ``NETFLIX_DEC_AIRFLOW_BIN``: the folder holding its ``python``
and ``airflow`` commands. Without it this test skips, saying so, except where
``NETFLIX_DEC_REQUIRE_AIRFLOW=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from netflix_dec.catalogue import ENV_VAR

from .conftest import make_project_copy

pytestmark = pytest.mark.slow

BIN_VAR = "NETFLIX_DEC_AIRFLOW_BIN"
REQUIRE_VAR = "NETFLIX_DEC_REQUIRE_AIRFLOW"
DAG_ID = "netflix-dec"


@pytest.fixture(scope="module")
def airflow_bin() -> Path:
    value = os.environ.get(BIN_VAR, "").strip()
    folder = Path(value) if value else None
    if folder is None or not (folder / "airflow").is_file():
        reason = (
            f"Airflow not available: {BIN_VAR}={value!r} has no `airflow` command "
            '(python3.11 -m venv VENV && VENV/bin/pip install -e ".[airflow]")'
        )
        if os.environ.get(REQUIRE_VAR) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int):
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)}:\n{output[-4000:]}"
    return output


def test_the_dag_grouped_by_namespace_runs_the_fast_environment(
    airflow_bin: Path, tmp_path: Path
):
    root = make_project_copy(tmp_path)
    home = tmp_path / "airflow_home"
    dags = tmp_path / "dags"
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR} | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "COLUMNS": "400",
    }
    home.mkdir()

    created = _run(
        [
            str(airflow_bin / "python"),
            "-m",
            "kedro",
            "airflow",
            "create",
            "--env",
            "fast",
            "--group-by",
            "namespace",
            "--target-dir",
            str(dags),
        ],
        root,
        env,
        timeout=600,
    )
    dag = dags / "netflix_dec_fast_dag.py"
    assert dag.is_file(), created
    source = dag.read_text(encoding="utf-8")
    for group in ("data_processing", "encoding", "dec_clustering", "visualization"):
        assert f'namespaces=["{group}"]' in source  # one task per pipeline

    _run([str(airflow_bin / "airflow"), "db", "migrate"], root, env, timeout=600)
    # The generated DAG runs each task in the working directory's project.
    output = _run(
        [str(airflow_bin / "airflow"), "dags", "test", DAG_ID],
        root,
        env,
        timeout=1800,
    )
    finished = [line for line in output.splitlines() if "DagRun Finished" in line]
    assert finished and "state=success" in finished[-1], output[-4000:]
    clusters = root / "data/07_model_output/clusters.csv"
    assert clusters.is_file() and clusters.stat().st_size > 0
    assert (root / "data/08_reporting/cluster_explorer.html").is_file()
