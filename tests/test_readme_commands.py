"""Every `kedro run ...` line of README.md works as written, so the docs cannot drift.

Each command is parsed by Kedro's own ``run`` command (its option callbacks,
such as the ``--params`` splitter, run too), and what it names is checked: the
environment, the pipelines, the runner, the datasets of ``--load-versions``, and
the parameters, validated with every override applied. The cheapest command is
also run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.cli.project import run as kedro_run_command
from kedro.framework.startup import bootstrap_project
from kedro.utils import load_obj

from netflix_dec.catalogue import ENV_VAR
from netflix_dec.params import check_parameter_groups
from netflix_dec.settings import CONFIG_LOADER_ARGS

from .conftest import PROJECT_ROOT, make_project_copy, run_kedro_session


def _code_lines(text: str) -> list[str]:
    """The lines inside the README's fenced code blocks, continuations joined."""
    lines, inside = [], False
    for line in text.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def readme_commands(text: str) -> list[list[str]]:
    """The arguments after ``kedro run`` of each command in the README's code blocks."""
    commands = []
    for line in _code_lines(text):
        if "kedro run" not in line:
            continue
        words = shlex.split(line, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            words = words[1:]  # NAME=value before the command
        if words[:1] in (["kedro"], [".venv/bin/kedro"]) and words[1:2] == ["run"]:
            commands.append(words[2:])
    return commands


COMMANDS = readme_commands((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_commands_to_check():
    assert len(COMMANDS) >= 15
    assert ["--pipelines", "data_processing"] in COMMANDS


def test_readme_commands_parse():
    """The docs still show the very command the issue found broken, now fixed."""
    sweeps = [
        c for c in COMMANDS if "model_selection" in " ".join(c) and "--params" in c
    ]
    assert sweeps, "the README lost its model_selection sweep example"


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_readme_command_is_valid(args: list[str], tmp_path: Path, monkeypatch):
    root = make_project_copy(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.delenv(ENV_VAR, raising=False)
    metadata = bootstrap_project(root)
    # Kedro's own parser, with its callbacks: "Invalid format of params option"
    # and the like fail here as they do on the command line.
    context = kedro_run_command.make_context("run", list(args))
    options = context.params
    env = options["env"] or "local"
    assert (root / "conf" / env).is_dir(), f"no environment {env!r}"
    from kedro.framework.project import pipelines

    for name in options["pipelines"] or []:
        assert name in pipelines, f"no pipeline {name!r}"
    if options["runner"]:
        assert load_obj(options["runner"], "kedro.runner") is not None
    loader = OmegaConfigLoader(
        str(root / "conf"),
        **{**CONFIG_LOADER_ARGS, "default_run_env": env},
        runtime_params=options["params"],
    )
    check_parameter_groups(loader["parameters"])
    catalog = loader["catalog"]
    for name in options["load_versions"] or {}:
        assert name in catalog, f"--load-versions names no dataset {name!r}"
        assert catalog[name].get("versioned"), f"{name} is not versioned"
    assert metadata.package_name == "netflix_dec"


def test_the_cheapest_readme_command_runs(tmp_path: Path, monkeypatch):
    root = make_project_copy(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.delenv(ENV_VAR, raising=False)
    options = kedro_run_command.make_context(
        "run", ["--pipelines", "data_processing"]
    ).params
    assert ["--pipelines", "data_processing"] in COMMANDS
    run_kedro_session(root, options["pipelines"], env="fast", params=options["params"])
    assert (root / "data/03_primary/clean_titles.csv").is_file()
