"""Project settings: hooks and the config resolver that picks the raw catalogue.

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for what
else can be set here.
"""

from kedro.config import OmegaConfigLoader  # noqa: F401  (the default loader)

from netflix_dec.catalogue import new_titles_path, raw_titles_path
from netflix_dec.hooks import NodeTimingHooks, RunInfoHooks
from netflix_dec.pipeline_shape import PipelineShapeHooks

HOOKS = (PipelineShapeHooks(), RunInfoHooks(), NodeTimingHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {
        "raw_titles_path": raw_titles_path,
        "new_titles_path": new_titles_path,
    },
    # An environment overrides single keys of a parameter group (`fast` sets
    # `encoding.epochs` and keeps the rest of `encoding` from base).
    "merge_strategy": {"parameters": "soft"},
}
