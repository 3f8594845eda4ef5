"""model_selection: sweep the number of clusters and suggest one."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
