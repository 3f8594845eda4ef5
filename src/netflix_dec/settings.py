"""Project settings: hooks and the config resolver that picks the raw catalogue.

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for what
else can be set here.
"""

import warnings

from kedro.config import OmegaConfigLoader  # noqa: F401  (the default loader)

from netflix_dec.catalogue import new_titles_path, raw_titles_path
from netflix_dec.hooks import RunInfoHooks
from netflix_dec.pipeline_shape import PipelineShapeHooks
from netflix_dec.telemetry import mlflow_telemetry_off
from netflix_dec.timing import FreedMemoryHooks, NodeTimingHooks
from netflix_dec.tracking import TrackingHooks
from netflix_dec.transaction import RunTransactionHooks

# Before kedro-mlflow's CLI commands import MLflow.
mlflow_telemetry_off()

# Kedro 1.7 registers its config resolvers with OmegaConf's
# register_new_resolver(), which OmegaConf 2.4 deprecates: four warnings about
# Kedro's code, not this project's, on every command. Only that message, and
# only from Kedro's config loader, is silenced.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.config\.omegaconf_config",
)

HOOKS = (
    # First to start and last to finish a run (its hooks say tryfirst/trylast).
    RunTransactionHooks(),
    PipelineShapeHooks(),
    RunInfoHooks(),
    FreedMemoryHooks(),
    NodeTimingHooks(),
    TrackingHooks(),
)

# kedro-mlflow registers its hooks as soon as it is installed, and an error in
# them fails the run. TrackingHooks drives the same hook behind a guard instead
# (tracking.py); the plugin's distribution name is what Kedro matches here.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)

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
