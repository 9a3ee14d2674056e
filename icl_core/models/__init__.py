"""Model specs, the embedded zoo, acquisition and loading."""

from icl_core.models.loading import LoadedModel, ModelInfo, decoder_layers, load_model
from icl_core.models.registry import DEFAULT_MODELS, REGISTRY, ZOO, ModelSpec, get_spec

__all__ = [
    "DEFAULT_MODELS", "REGISTRY", "ZOO", "LoadedModel", "ModelInfo", "ModelSpec",
    "decoder_layers", "get_spec", "load_model",
]  # fmt: skip
