"""Model building blocks: vision, language and proprio encoders, the transformer backbone, an
optional Hugging Face VLM backbone and the action heads (policies assemble them)."""

from hivla.models.backbone import BackboneConfig, ProprioEncoder, TransformerBackbone
from hivla.models.heads import HEAD_KINDS, ExpertHead, HeadConfig, TokenHead
from hivla.models.language import LANGUAGE_ENCODERS, LanguageConfig, build_language_encoder
from hivla.models.vision import VISION_ENCODERS, VISION_KINDS, VisionConfig, build_vision_encoder

__all__ = [
    "HEAD_KINDS",
    "LANGUAGE_ENCODERS",
    "VISION_ENCODERS",
    "VISION_KINDS",
    "BackboneConfig",
    "ExpertHead",
    "HeadConfig",
    "LanguageConfig",
    "ProprioEncoder",
    "TokenHead",
    "TransformerBackbone",
    "VisionConfig",
    "build_language_encoder",
    "build_vision_encoder",
]
