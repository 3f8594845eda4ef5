"""reporting: what the catalogue is made of, how it moves, and similar titles."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
