"""dec_clustering: DEC/IDEC clustering of the embeddings, summary and metrics."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
