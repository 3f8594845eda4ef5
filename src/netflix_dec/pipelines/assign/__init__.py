"""assign: place new titles in the trained clusters, without refitting anything."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
