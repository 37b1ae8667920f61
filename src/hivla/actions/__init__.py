"""Action representations: tokenizers (bins, FAST), continuous experts (flow, diffusion, L1) and
policy wrappers for chunk execution and temporal ensembling (``hivla.actions.chunking``)."""

from hivla.actions.experts import ACTION_EXPERTS, load_action_expert, make_action_expert, save_action_expert
from hivla.actions.tokenizers import TOKENIZERS, load_tokenizer, make_tokenizer

__all__ = [
    "ACTION_EXPERTS",
    "TOKENIZERS",
    "load_action_expert",
    "load_tokenizer",
    "make_action_expert",
    "make_tokenizer",
    "save_action_expert",
]
