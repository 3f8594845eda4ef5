"""The parameters that decide the pipelines' shape, read before Kedro builds them.

``encoding.shards`` sets how many encoding nodes there are, but Kedro calls
``create_pipeline()`` without parameters. It does, however, create the run's
context, with every parameter merged (``conf/base``, the ``--env`` environment
and ``--params``), before the first access to the pipelines: ``KedroSession.run``
loads the context, whose ``after_context_created`` hook fires, and only then
looks up the pipelines it runs (likewise ``kedro airflow create`` and the
Jupyter/IPython extension). :class:`PipelineShapeHooks` records the value at that
point, and the encoding pipeline reads it with :func:`encoding_shards`.

Sessions created with hooks switched off build the default shape (one shard):
``kedro viz run`` shows the shards with ``--include-hooks`` (and
``--params encoding.shards=4`` or ``--env``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kedro.framework.hooks import hook_impl

from netflix_dec.params import DEFAULT_SHARDS, shards_of

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext

logger = logging.getLogger(__name__)

_shards = DEFAULT_SHARDS


def encoding_shards() -> int:
    """Encoding shards of the current session (1 before any context exists)."""
    return _shards


class PipelineShapeHooks:
    """Record the run's ``encoding.shards`` before the pipelines are built."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        global _shards  # noqa: PLW0603 - one process runs one project's session
        # The raw merged config: ``context.params`` would validate the parameters
        # against the pipelines' nodes, and so build the pipelines too early.
        shards = shards_of(context.config_loader["parameters"])
        if shards == _shards:
            return
        _shards = shards
        # A process that built the pipelines before (a notebook, a test session)
        # must build them again with the new shape.
        from kedro.framework.project import PACKAGE_NAME, pipelines

        if PACKAGE_NAME:
            pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
        logger.info("Encoding in %d shards.", shards)
