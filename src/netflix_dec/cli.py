"""Project commands: ``kedro run`` ending with one clear line when a check stops it.

Kedro reads a project's ``cli.py`` and lets its commands override the built-in
ones (https://docs.kedro.org/en/stable/develop/commands_reference/). This
``run`` is Kedro's own (same options, same code) plus a ``--verbose`` flag:
when a run stops on one of the project's own checks (a bad input file, a
parameter, a locked project, a damaged artifact), the output ends with that
message alone instead of a 200-line traceback above it. The traceback goes to
the log files (``info.log``), and to the terminal with ``--verbose``; any
other error (a bug) keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import click
from kedro.framework.cli.project import run as kedro_run
from pydantic import ValidationError

logger = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent


def _clear_errors() -> tuple[type[BaseException], ...]:
    from kedro.validation import ParameterValidationError

    from netflix_dec.catalogue import RawTitlesError
    from netflix_dec.datasets import ArtifactError
    from netflix_dec.encoders.words import EmptyVocabularyError
    from netflix_dec.pipelines.assign.nodes import ModelMismatchError, NewTitlesError
    from netflix_dec.pipelines.visualization.nodes import MixedRunsError
    from netflix_dec.storage.ledger import IncompleteRunError, RunLockedError
    from netflix_dec.storage.lineage import StaleInputError

    return (
        ParameterValidationError,
        RawTitlesError,
        ArtifactError,
        ModelMismatchError,
        NewTitlesError,
        MixedRunsError,
        EmptyVocabularyError,
        IncompleteRunError,
        RunLockedError,
        StaleInputError,
        ValidationError,
    )


def is_clear(error: BaseException) -> bool:
    """Whether ``error`` is a message for the user rather than a bug.

    The project's own error types, and a ``ValueError`` or ``FileNotFoundError``
    the project's code raised itself (its run-start checks), not one raised
    inside a library.
    """
    if isinstance(error, _clear_errors()):
        return True
    if not isinstance(error, ValueError | FileNotFoundError):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE)


def _to_log_files(error: BaseException) -> None:
    """The traceback, into the log files only (not the terminal)."""
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        0,
        "Run stopped: %s",
        (error,),
        (type(error), error, error.__traceback__),
    )
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


class _ClearRun(click.Command):
    def invoke(self, ctx: click.Context) -> object:
        verbose = ctx.params.pop("verbose", False)
        try:
            return super().invoke(ctx)
        except Exception as error:
            if verbose or not is_clear(error):
                raise
            _to_log_files(error)
            click.secho(f"Error: {error}", fg="red", err=True)
            click.echo(
                "(The traceback is in info.log; `kedro run --verbose` prints it.)",
                err=True,
            )
            sys.exit(1)


run = _ClearRun(
    name="run",
    params=[
        *kedro_run.params,
        click.Option(
            ["--verbose"],
            is_flag=True,
            default=False,
            help="Print the full traceback when a check stops the run.",
        ),
    ],
    callback=kedro_run.callback,
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)


@click.group(name="netflix_dec")
def cli() -> None:
    """The project's commands (``kedro run`` with a short error on a failed check)."""


cli.add_command(run)
