"""Paraphrase augmentation: every template reads back, rephrasings keep the content, and the
held-out templates and connector never come out of it."""

from __future__ import annotations

import numpy as np
import pytest

from hivla.sim.episode import SamplingOptions, sample_episode
from hivla.sim.language import CONNECTORS, TEMPLATES
from hivla.transforms.paraphrase import paraphrase_texts, parse_phrase, parse_text, rephrase

ARGS = {"obj": "red cube", "target": "blue bowl", "prep": "in"}


def _heldout_renderings() -> set[str]:
    return {TEMPLATES[k][-1].format(**ARGS) for k in TEMPLATES}


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_reads_back(kind):
    for index, template in enumerate(TEMPLATES[kind]):
        phrase = parse_phrase(template.format(**ARGS))
        assert (phrase.kind, phrase.template) == (kind, index)
        if "{obj}" in template:
            assert phrase.obj == "red cube"
        if "{target}" in template:
            assert phrase.target == "blue bowl"


def test_simulator_texts_read_back_with_their_held_out_flag():
    for seed in range(150):
        for heldout in (False, True):
            spec = sample_episode(seed, SamplingOptions(chain_lengths=(1, 3, 5), heldout_paraphrases=heldout))
            parsed = parse_text(spec.instruction)
            assert parsed is not None and parsed.instruction and parsed.heldout == heldout
            for sub in spec.subtasks:  # canonical subtask texts: training templates, one phrase
                one = parse_text(sub.text)
                assert not one.heldout and not one.instruction and one.phrases[0].kind == sub.kind


def test_blocks_named_by_height_read_back_and_keep_their_relation():
    """Spatial instructions ("put the red cube on the highest block") parse, and rephrasing keeps
    the relation as the target."""
    rng = np.random.default_rng(1)
    for seed in range(30):
        for heldout in (False, True):
            opts = SamplingOptions(chain_lengths=(2, 3), heldout_paraphrases=heldout, blocks=3)
            spec = sample_episode(seed, opts)
            parsed = parse_text(spec.instruction)
            assert parsed is not None and parsed.heldout == heldout
            want = [(s.obj, s.target) for s in spec.subtasks if s.target in ("highest block", "lowest block")]
            got = [(p.obj, p.target) for p in parse_text(rephrase(spec.instruction, rng)).phrases]
            assert want and all(w in got for w in want)


def test_rephrasing_keeps_the_content_and_never_uses_held_out_wordings():
    rng = np.random.default_rng(0)
    heldout = _heldout_renderings()
    texts = [sample_episode(s, SamplingOptions(chain_lengths=(1, 2, 3))).instruction for s in range(40)]
    texts += [
        sub.text for s in range(40) for sub in sample_episode(s, SamplingOptions(chain_lengths=(3,))).subtasks
    ]
    texts += [t.format(**ARGS) for ts in TEMPLATES.values() for t in ts]  # the held-out ones too
    seen = set()
    for text in texts:
        want = parse_text(text)
        for _ in range(25):
            new = rephrase(text, rng)
            got = parse_text(new)
            assert not got.heldout and new not in heldout and CONNECTORS[-1] not in new.lower()
            assert [(p.kind, p.obj, p.target) for p in got.phrases] == [
                (p.kind, p.obj, p.target) for p in want.phrases
            ]
            assert got.instruction == want.instruction
            seen.add(new)
    assert len(seen) > 2 * len(set(texts))  # the wordings do vary


def test_texts_from_elsewhere_stay_and_the_probability_is_per_text():
    rng = np.random.default_rng(0)
    assert rephrase("fold the towel", rng) == "fold the towel"
    texts = ["place the red cube in the blue bowl"] * 400
    assert paraphrase_texts(texts, 0.0, rng) == texts
    changed = sum(t != texts[0] for t in paraphrase_texts(texts, 0.5, rng))
    assert 80 < changed < 200  # p = 0.5, then 2 of 3 training templates differ: about 133
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        paraphrase_texts(texts, 1.5, rng)
