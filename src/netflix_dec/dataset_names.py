"""The catalogue's dataset names that code outside the pipelines refers to.

The pipelines name their inputs and outputs in their ``pipeline.py`` and the
catalogue gives each a file (``conf/base/catalog.yml``); the run plumbing
(the run-start checks, tracking, the served model) also reads a few of them
by name. They are spelt here once, so that renaming a dataset is one edit
here and in the catalogue.
"""

from __future__ import annotations

# The input catalogue and the table the cleaning makes of it.
RAW_TITLES = "raw_titles"
CLEAN_TITLES = "clean_titles"
# New titles to assign (`kedro run --pipelines assign`), and the served
# model's request.
NEW_TITLES = "new_titles"
ASSIGNED_TITLES = "assigned_titles"

# What the training run makes that tracking records.
TEXT_ENCODER = "text_encoder"
PRETRAINING_HISTORY = "pretraining_history"
DEC_MODEL = "dec_model"
DEC_TRAINING = "dec_training"
CLUSTER_SUMMARY = "cluster_summary"
CLUSTERING_METRICS = "clustering_metrics"
MODEL_SELECTION_TABLE = "model_selection_table"
MODEL_SELECTION_REPORT = "model_selection_report"
RUN_TIMINGS = "run_timings"

# The served model: its answer (the inference pipeline's output) and its folder.
SERVED_ASSIGNMENTS = "served_assignments"
SERVED_MODEL = "served_model"

# Kedro's own: every parameter group, and the prefix of one group's input.
PARAMETERS = "parameters"
PARAMS_PREFIX = "params:"
