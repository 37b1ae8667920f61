"""A learned planner: a small bidirectional GRU tagger that segments an instruction into step phrases,
labels each phrase with its kind and marks the words naming the object and target.

Tagging per word (rather than generating the plan token by token) lets the planner handle chains
longer than any seen in training; frozen MiniLM features (optional) carry it to unseen paraphrases.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hivla.checkpoints import CheckpointFormat, load_weights, save_weights
from hivla.planning.corpus import Example, words_of
from hivla.planning.grammar import NEEDS_OBJECT, NEEDS_TARGET, STEP_KINDS, Step, expand_steps, validate_plan
from hivla.planning.text_features import MINILM_DIM, PAD, encode_words, minilm_word_features
from hivla.sim.spatial import is_relation
from hivla.types import Plan

STEP_TAGS = ("O", *(f"{p}-{k}" for k in STEP_KINDS for p in ("B", "I")))
ROLES = ("-", "obj", "tgt")
FORMAT_VERSION = 1
WEIGHTS_FILE = "planner.safetensors"
# Version-1 planner.json files written before the "format" key was added still load.
PLANNER_FORMAT = CheckpointFormat(
    "hivla.learned_planner", FORMAT_VERSION, "planner.json", "learned planner",
    "`hivla planner train` or LearnedPlanner.save", unnamed_ok=True, indent=1,
)  # fmt: skip


@dataclass(frozen=True)
class PlannerConfig:
    features: str = "minilm"  # "minilm" (frozen MiniLM + learned words) | "learned" (words only)
    embed_dim: int = 64
    hidden_dim: int = 96
    layers: int = 2
    steps: int = 1500
    batch_size: int = 64
    lr: float = 3e-3
    word_dropout: float = 0.3  # learned word ids replaced by <unk> in training: leans on MiniLM for new words
    seed: int = 0

    def __post_init__(self) -> None:
        if self.features not in ("minilm", "learned"):
            raise ValueError(f"features must be 'minilm' or 'learned', got {self.features!r}")
        if min(self.embed_dim, self.hidden_dim, self.layers, self.steps, self.batch_size) < 1:
            raise ValueError(f"planner sizes must be positive: {self}")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), got {self.word_dropout}")


class TaggerNet(nn.Module):
    def __init__(self, cfg: PlannerConfig, vocab_size: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=PAD)
        extra = MINILM_DIM if cfg.features == "minilm" else 0
        self.proj = nn.Linear(cfg.embed_dim + extra, cfg.hidden_dim)
        self.rnn = nn.GRU(cfg.hidden_dim, cfg.hidden_dim, cfg.layers, batch_first=True, bidirectional=True)
        self.step_head = nn.Linear(2 * cfg.hidden_dim, len(STEP_TAGS))
        self.role_head = nn.Linear(2 * cfg.hidden_dim, len(ROLES))

    def forward(self, ids: torch.Tensor, feats: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.embed(ids)  # (B, T, E)
        if feats is not None:
            x = torch.cat([x, feats], dim=-1)  # (B, T, E + 384)
        h, _ = self.rnn(torch.relu(self.proj(x)))  # (B, T, 2H)
        return self.step_head(h), self.role_head(h)


class LearnedPlanner:
    """``plan(obs, instruction, objects=None) -> Plan``; ``fit(examples)``; ``save``/``load``."""

    name = "learned"

    def __init__(self, cfg: PlannerConfig | None = None, vocab: list[str] | None = None) -> None:
        self.cfg = cfg or PlannerConfig()
        self.vocab = vocab or ["<pad>", "<unk>"]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.net = TaggerNet(self.cfg, len(self.vocab))

    # ---- training ------------------------------------------------------------------------------
    def build_net(self) -> TaggerNet:
        """A new, untrained tagger for this planner's config and vocabulary."""
        return TaggerNet(self.cfg, len(self.vocab))

    def fit(
        self,
        examples: list[Example],
        log_every: int = 0,
        out: str | Path | None = None,
        resume: bool = False,
        stop_at: int | None = None,
    ) -> list[float]:
        """Train on ``examples`` with the trainer core (``hivla.planning.training.PlannerTask``);
        return the losses of the steps taken. ``out``: a run directory for checkpoints and logs
        (``resume`` continues it exactly); ``log_every`` > 0 also shows progress."""
        from hivla.planning.training import PlannerTask
        from hivla.training.core import TrainerCore, check_new_run

        check_new_run(out, resume)
        task = PlannerTask(self, examples, log_every)
        result = TrainerCore(task, out, resume=resume, quiet=not log_every).fit(stop_at=stop_at)
        self.net.eval()
        return result["losses"]

    def _tensors(self, examples: list[Example], labels: bool):
        n, t = len(examples), max(len(e.words) for e in examples)
        ids = torch.zeros(n, t, dtype=torch.long)
        for i, e in enumerate(examples):
            ids[i, : len(e.words)] = torch.from_numpy(encode_words(e.words, self.index))
        feats = None
        if self.cfg.features == "minilm":
            feats = torch.zeros(n, t, MINILM_DIM)
            for i, f in enumerate(minilm_word_features([e.words for e in examples])):
                feats[i, : len(f)] = torch.from_numpy(f)
        if not labels:
            return ids, feats
        step_y = torch.full((n, t), -100, dtype=torch.long)
        role_y = torch.full((n, t), -100, dtype=torch.long)
        for i, e in enumerate(examples):
            step_y[i, : len(e.words)] = torch.tensor([STEP_TAGS.index(s) for s in e.step_tags])
            role_y[i, : len(e.words)] = torch.tensor([ROLES.index(r) for r in e.roles])
        return ids, feats, step_y, role_y

    # ---- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def scores(self, instruction: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Words, log-probabilities of the step tags (T, n_tags) and of the roles (T, 3)."""
        words = tuple(words_of(instruction))
        if not words:
            raise ValueError("empty instruction; expected a sentence such as 'open the drawer'")
        ex = Example(instruction, words, ("O",) * len(words), ("-",) * len(words), ())
        ids, feats = self._tensors([ex], labels=False)
        s_logits, r_logits = self.net(ids, feats)
        return list(words), s_logits[0].log_softmax(-1).numpy(), r_logits[0].log_softmax(-1).numpy()

    def tag(self, instruction: str) -> tuple[list[str], list[str], list[str]]:
        """Per-word argmax tags (for inspection; :meth:`steps` decodes with constraints)."""
        words, step_lp, role_lp = self.scores(instruction)
        return words, [STEP_TAGS[i] for i in step_lp.argmax(-1)], [ROLES[i] for i in role_lp.argmax(-1)]

    def steps(self, instruction: str, objects: dict[str, str] | None = None) -> list[Step]:
        """Decode steps with the grammar's constraints.

        1. Segment with Viterbi over O/B/I (a phrase starts only after a connector word, so a phrase
           keeps one kind even when single words look like another kind).
        2. Give each phrase the best kind its arguments allow (a stack needs a target word, ...).
        3. Snap object names to the scene's when known; merge repeats of argument-free steps.
        """
        words, step_lp, role_lp = self.scores(instruction)
        roles = [ROLES[i] for i in role_lp.argmax(-1)]
        out: list[Step] = []
        for phrase in _segment(step_lp):
            obj = " ".join(words[i] for i in phrase if roles[i] == "obj") or None
            tgt = " ".join(words[i] for i in phrase if roles[i] == "tgt") or None
            kind = _best_kind(step_lp, phrase, has_obj=obj is not None, has_tgt=tgt is not None)
            if objects is not None:
                obj, tgt = _snap(obj, objects), _snap(tgt, objects)
            step = Step(kind, obj if kind in NEEDS_OBJECT else None, tgt if kind in NEEDS_TARGET else None)
            if out and step == out[-1] and kind not in NEEDS_OBJECT:
                continue  # "give the button a press" may segment twice; a chain never repeats these
            out.append(step)
        return out

    def plan(self, obs, instruction: str, objects: dict[str, str] | None = None) -> Plan:
        """Plan for ``instruction``; validated against the grammar (and the scene when given)."""
        subtasks = expand_steps(self.steps(instruction, objects))
        return validate_plan(Plan(instruction, tuple(subtasks)), objects)

    # ---- checkpoint ----------------------------------------------------------------------------
    def save(self, path: str | Path, weights: dict[str, torch.Tensor] | None = None) -> Path:
        """Write ``planner.json`` and ``planner.safetensors`` (``weights`` in place of the net's)."""
        path = Path(path)
        PLANNER_FORMAT.write_meta(
            path, {"kind": "learned_planner", "config": asdict(self.cfg), "vocab": self.vocab}
        )
        save_weights(weights if weights is not None else self.net.state_dict(), path / WEIGHTS_FILE)
        return path

    @classmethod
    def load(cls, path: str | Path) -> LearnedPlanner:
        meta = PLANNER_FORMAT.read_meta(path)
        planner = cls(PlannerConfig(**meta["config"]), meta["vocab"])
        planner.net.load_state_dict(load_weights(Path(path) / WEIGHTS_FILE))
        planner.net.eval()
        return planner


_B = [STEP_TAGS.index(f"B-{k}") for k in STEP_KINDS]
_I = [STEP_TAGS.index(f"I-{k}") for k in STEP_KINDS]


def _segment(step_lp: np.ndarray) -> list[list[int]]:
    """Viterbi over {O, B, I} with transitions O->O|B, B->I|O, I->I|O; returns the phrases."""
    o = step_lp[:, 0]
    b = np.logaddexp.reduce(step_lp[:, _B], axis=1)
    i_ = np.logaddexp.reduce(step_lp[:, _I], axis=1)
    emit = np.stack([o, b, i_], axis=1)  # (T, 3): O, B, I
    allowed = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 1]], dtype=bool)  # from (rows) -> to (cols)
    t_len = len(emit)
    score = np.where([True, True, False], emit[0], -np.inf)
    back = np.zeros((t_len, 3), dtype=int)
    for t in range(1, t_len):
        cand = np.where(allowed, score[:, None], -np.inf)  # (from, to)
        back[t] = cand.argmax(0)
        score = cand.max(0) + emit[t]
    state = [int(score.argmax())]
    for t in range(t_len - 1, 0, -1):
        state.append(int(back[t, state[-1]]))
    state.reverse()
    phrases: list[list[int]] = []
    for t, st in enumerate(state):
        if st == 1:
            phrases.append([t])
        elif st == 2:
            phrases[-1].append(t)
    return phrases


def _best_kind(step_lp: np.ndarray, phrase: list[int], has_obj: bool, has_tgt: bool) -> str:
    """The kind with the highest phrase score among those whose arguments are present."""
    best, best_score = STEP_KINDS[0], -np.inf
    for k, kind in enumerate(STEP_KINDS):
        if (kind in NEEDS_OBJECT and not has_obj) or (kind in NEEDS_TARGET and not has_tgt):
            continue
        score = step_lp[phrase[0], _B[k]] + step_lp[phrase[1:], _I[k]].sum()
        if score > best_score:
            best, best_score = kind, score
    return best


def _snap(name: str | None, objects: dict[str, str]) -> str | None:
    if name is None or name in objects or is_relation(name):  # "highest block" names no one object
        return name
    close = difflib.get_close_matches(name, list(objects), n=1, cutoff=0.0)
    return close[0] if close else name


def plan_accuracy(planner: LearnedPlanner, examples: list[Example]) -> float:
    """Fraction of instructions whose planned subtasks (kind, object, target) match exactly."""

    def key(subs) -> list[tuple]:
        return [(s.kind, s.obj, s.target) for s in subs]

    hits = 0
    for ex in examples:
        try:
            hits += key(planner.plan(None, ex.instruction).subtasks) == key(ex.subtasks)
        except ValueError:
            pass
    return hits / max(len(examples), 1)
