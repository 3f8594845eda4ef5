"""encoding: descriptions to features, autoencoder pretraining and embeddings."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
