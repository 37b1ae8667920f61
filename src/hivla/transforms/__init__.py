"""Data transforms: small frozen steps grouped into input and output pipelines.

Train with ``Transforms(inputs=Pipeline((...)), outputs=Pipeline((Unnormalize(...),)))``; serve
with ``transforms.eval()`` (same steps, same order, random augmentation made deterministic).
"""

from hivla.transforms.base import Pipeline, Transform, Transforms
from hivla.transforms.image import ColorJitter, RandomCrop, Resize
from hivla.transforms.normalize import Normalize, Unnormalize, normalize, unnormalize
from hivla.transforms.tokenize import Tokenize

__all__ = [
    "ColorJitter",
    "Normalize",
    "Pipeline",
    "RandomCrop",
    "Resize",
    "Tokenize",
    "Transform",
    "Transforms",
    "Unnormalize",
    "normalize",
    "unnormalize",
]
