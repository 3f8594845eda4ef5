"""export_model: the trained model as an MLflow model that a server answers with."""

from .pipeline import artifact_names, create_inference_pipeline, create_pipeline

__all__ = ["artifact_names", "create_inference_pipeline", "create_pipeline"]
