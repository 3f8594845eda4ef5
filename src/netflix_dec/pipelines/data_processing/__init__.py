"""data_processing: validate, clean and explore the raw catalogue."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
