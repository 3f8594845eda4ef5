"""Shared fixtures: the bundled sample, the real catalogue, a scratch project."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from netflix_dec.catalogue import ENV_VAR, SAMPLE_PATH
from tests.support import ROOT as PROJECT_ROOT
from tests.support import scratch_project


@pytest.fixture(scope="session")
def sample_titles() -> pd.DataFrame:
    """The committed synthetic catalogue, as the pipeline loads it."""
    return pd.read_csv(PROJECT_ROOT / SAMPLE_PATH, encoding="utf-8")


@pytest.fixture(scope="session")
def real_titles_path() -> Path:
    """The real Kaggle file, or a plain skip saying how to provide it."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        pytest.skip(f"real catalogue not available: {ENV_VAR} is not set")
    path = Path(value)
    if not path.is_absolute():
        path = (PROJECT_ROOT / path).resolve()
    if not path.is_file():
        pytest.skip(f"real catalogue not available: {ENV_VAR}={value} is not a file")
    return path


@pytest.fixture(scope="session")
def real_titles(real_titles_path: Path) -> pd.DataFrame:
    """The real Kaggle file as read from disk (shared: do not modify it)."""
    return pd.read_csv(real_titles_path, encoding="utf-8")


def make_project_copy(parent: Path) -> Path:
    """A scratch copy of the project (config and sample only) to run sessions in."""
    return scratch_project(parent / "project", sample=True)


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """:func:`make_project_copy` as the working directory, without the real file."""
    root = make_project_copy(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(root)
    return root


def run_kedro_session(
    root: Path,
    pipelines: list[str] | None = None,
    env: str | None = None,
    params: dict | None = None,
    runner=None,
) -> dict:
    """Run pipelines of the project at ``root`` in a Kedro session, like `kedro run`.

    The caller makes ``root`` the working directory, as `kedro run` has it;
    ``runner`` is a Kedro runner instance (default: sequential).
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(root)
    with KedroSession.create(
        project_path=root, env=env, runtime_params=params
    ) as session:
        return session.run(pipeline_names=pipelines, runner=runner)


def finished_fast_run(parent: Path) -> Path:
    """A scratch project under ``parent`` after one `kedro run --env fast` on the sample."""
    root = make_project_copy(parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VAR, raising=False)
        patch.chdir(root)
        run_kedro_session(root, env="fast")
    return root


@pytest.fixture
def run_session(project_copy: Path):
    """:func:`run_kedro_session` on the scratch project."""

    def run(
        pipelines: list[str] | None = None,
        env: str | None = None,
        params: dict | None = None,
    ) -> dict:
        return run_kedro_session(project_copy, pipelines, env, params)

    return run


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (tests/browser_support.py).

    Skips, saying what to install, without Playwright or Chromium.
    """
    from tests.browser_support import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def swept_sample_run(tmp_path_factory) -> Path:
    """A scratch project after a `fast` run with sentence features, then the sweep.

    Sentence features are what the default run clusters; the sweep runs in the
    same space. With kedro-mlflow installed, both runs are tracked in the
    project's own SQLite store (``mlflow.db`` in the scratch folder).
    """
    root = make_project_copy(tmp_path_factory.mktemp("swept"))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_VAR, raising=False)
        patch.setenv("NETFLIX_DEC_TRACKING", "on")
        patch.chdir(root)
        params = {"encoding": {"features": "sentence"}}
        run_kedro_session(root, env="fast", params=params)
        run_kedro_session(root, ["model_selection"], env="fast", params=params)
    return root


HAS_SMAPS = Path("/proc/self/smaps").exists()


def resident_kb(path: Path) -> int:
    """Resident kB of this process's memory maps of ``path`` (Linux smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0]:  # a mapping's header: its address range, ..., its file
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total
