"""visualization: t-SNE map of the clusters and an interactive Bokeh explorer."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
