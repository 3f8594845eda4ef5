"""Run-start errors end the output with one clear message; telemetry stays off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netflix_dec.cli import is_clear
from netflix_dec.params import check_parameter_groups
from tests.support import kedro

from .conftest import make_project_copy


def test_a_parameter_group_that_is_not_a_mapping_is_named():
    with pytest.raises(
        ValueError, match="Parameter group 'encoding' must be a mapping"
    ):
        check_parameter_groups({"encoding": 5})


def test_project_checks_are_clear_and_library_errors_are_not():
    try:
        check_parameter_groups({"encoding": 5})
    except ValueError as error:
        assert is_clear(error)
    try:
        int("abc")
    except ValueError as error:
        assert not is_clear(error)  # raised inside Python, not by a check
    assert not is_clear(IndexError("a bug"))


@pytest.mark.slow
def test_a_failed_check_ends_the_output_without_a_traceback(tmp_path: Path):
    root = make_project_copy(tmp_path)
    (root / "conf/local/parameters.yml").write_text("encoding: 5\n")
    result = kedro(root, "run", "--pipelines", "data_processing")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-2000:]
    assert "Traceback" not in output and "AttributeError" not in output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-2].startswith("Error: Parameter group 'encoding' must be a mapping")
    assert "--verbose" in lines[-1]
    assert len(output.splitlines()) < 40
    # The traceback is kept in the log file, and printed with --verbose.
    assert "Traceback" in (root / "info.log").read_text(encoding="utf-8")
    verbose = kedro(root, "run", "--pipelines", "data_processing", "--verbose")
    assert verbose.returncode != 0
    assert "Traceback" in verbose.stdout + verbose.stderr


def test_kedro_telemetry_is_off_outside_the_project(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK")
    }
    check = (
        "import netflix_dec\n"
        "from kedro_telemetry.plugin import _check_for_telemetry_consent\n"
        "print(_check_for_telemetry_consent(None))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip().splitlines()[-1] == "False"
    # A user who opted in keeps their choice.
    (tmp_path / ".telemetry").write_text("consent: true\n")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import netflix_dec, os\nprint(os.environ.get('KEDRO_DISABLE_TELEMETRY'))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip().splitlines()[-1] == "None"
