"""Reasoning before actions: trace parsing and tokens, a reasoning VLA's training, saving and trace reuse."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from tests.policies.conftest import fit_data, make_batch, make_obs, tiny_config

from hivla.policies import FitData, VLAPolicy, VLAProcessor, load_policy
from hivla.policies.vla.reasoning import (
    OFFSET_BINS,
    ReasoningConfig,
    TraceVocab,
    describe_trace,
    parse_reasoning,
)

TRACES = (
    "subtask: pick up the red cube; target: red cube is 12 cm forward, 3 cm left, 10 cm below; "
    "move: descend: move forward and down; gripper: open",
    "subtask: open the drawer; target: drawer handle is at the gripper; move: close: hold still; gripper: close",
    "subtask: press the button; target: button is 41 cm back; move: move above: move back; gripper: open",
)


def _expert_reasoning(steps: int = 60) -> list[str]:
    from hivla.sim import ScriptedExpert, make_env

    env = make_env("tabletop-chain-2", "floating", image_size=64, render=False)
    obs, info = env.reset(seed=3)
    expert, texts = ScriptedExpert(env), []
    for _ in range(steps):
        action, note = expert.act(obs, info)
        texts.append(note.text())
        obs, _, term, trunc, info = env.step(action)
        if term or trunc:
            break
    env.close()
    return texts


def test_expert_traces_parse_and_survive_a_token_round_trip() -> None:
    texts = _expert_reasoning()
    vocab = TraceVocab.fit(texts)
    for text in texts:
        trace = parse_reasoning(text)
        ids = vocab.encode(trace)
        assert all(s <= i < e for i, (s, e) in zip(ids, vocab.spans, strict=True))
        again = parse_reasoning(describe_trace("x", vocab.decode(ids)))
        np.testing.assert_array_equal(vocab.encode(again), ids)  # binning is idempotent
        assert again.target == trace.target and again.phase == trace.phase and again.gripper == trace.gripper
        assert all(
            abs(a - b) <= max(1, 0.25 * abs(b)) for a, b in zip(again.offset_cm, trace.offset_cm, strict=True)
        )
    assert (
        TraceVocab.from_dict(vocab.to_dict()).encode(parse_reasoning(texts[0])).tolist()
        == vocab.encode(parse_reasoning(texts[0])).tolist()
    )


def test_parsing_fields_and_malformed_traces() -> None:
    t = parse_reasoning(TRACES[0])
    assert (t.target, t.phase, t.offset_cm, t.motion, t.gripper) == (
        "red cube",
        "descend",
        (12, 3, -10),
        (1, 0, -1),
        "open",
    )
    assert parse_reasoning(TRACES[1]).offset_cm == (0, 0, 0) and parse_reasoning(TRACES[1]).motion == (
        0,
        0,
        0,
    )
    far = TraceVocab.fit(list(TRACES)).decode(TraceVocab.fit(list(TRACES)).encode(parse_reasoning(TRACES[2])))
    assert far.offset_cm[0] == min(OFFSET_BINS)  # beyond the last bin: the far end
    with pytest.raises(ValueError, match=r"expected .subtask: \.\.\.; target"):
        parse_reasoning("pick it up")
    with pytest.raises(ValueError, match="unknown direction 'sideways'"):
        parse_reasoning(TRACES[0].replace("3 cm left", "3 cm sideways"))
    with pytest.raises(ValueError, match=r"reasoning\.every"):
        ReasoningConfig(every=-1)


def _reasoning_config(**kw):
    cfg = tiny_config("cnn", "l1")
    return dataclasses.replace(cfg, reasoning=ReasoningConfig(enabled=True, **kw), language_key="subtask")


def _build(cfg, seed: int = 0) -> VLAPolicy:
    torch.manual_seed(seed)
    base = fit_data(cfg, seed)
    return VLAPolicy(cfg, VLAProcessor.fit(cfg, FitData(base.states, base.chunks, TRACES)))


def _batch(cfg) -> dict:
    batch = make_batch(cfg)
    batch["subtask"] = ["pick up the red cube", "open the drawer", "press the button"]
    batch["reasoning"] = list(TRACES)
    return batch


def test_reasoning_policy_trains_saves_and_loads(tmp_path) -> None:
    cfg = _reasoning_config()
    policy = _build(cfg)
    batch = _batch(cfg)
    before = copy.deepcopy(batch)
    loss, metrics = policy.train().compute_loss(batch)
    assert torch.isfinite(loss) and {"trace_loss", "trace_acc", "action_loss"} <= set(metrics)
    loss.backward()
    assert policy.model.trace.out.weight.grad is not None and batch["reasoning"] == before["reasoning"]

    policy.eval()
    obs = make_obs(cfg)
    one = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    assert one.shape == (1, cfg.horizon, cfg.action_dim) and np.isfinite(one).all()
    text = policy.reasoning
    assert text.startswith("subtask: pick up the red cube; target: ") and "gripper: " in text
    parse_reasoning(text)  # the printed trace is a well-formed trace
    policy.save(tmp_path / "ckpt")
    loaded = load_policy(tmp_path / "ckpt")
    np.testing.assert_array_equal(loaded.sample_actions(obs, generator=torch.Generator().manual_seed(0)), one)
    assert loaded.reasoning == text and loaded.config == cfg


def test_training_needs_the_language_key_and_reasoning_columns() -> None:
    cfg = _reasoning_config()
    policy = _build(cfg)
    batch = _batch(cfg)
    with pytest.raises(KeyError, match="no 'subtask' strings"):
        policy.compute_loss({k: v for k, v in batch.items() if k != "subtask"})
    with pytest.raises(KeyError, match="'reasoning' strings"):
        policy.compute_loss({k: v for k, v in batch.items() if k != "reasoning"})
    base = fit_data(cfg)
    with pytest.raises(ValueError, match="no 'reasoning' strings"):
        VLAProcessor.fit(cfg, base)


def test_the_action_pass_reads_the_trace() -> None:
    policy = _build(_reasoning_config()).eval()
    inputs, _ = policy.processor.prepare_obs(make_obs(policy.config))
    vocab = policy.processor.trace_vocab
    a = torch.from_numpy(vocab.encode(parse_reasoning(TRACES[0])))[None]
    b = torch.from_numpy(vocab.encode(parse_reasoning(TRACES[2])))[None]
    model = policy.model
    with torch.no_grad():
        tokens, valid = model.perceive(inputs)
        read_a = model.mix(*model.with_trace(tokens, valid, a))[0]
        read_b = model.mix(*model.with_trace(tokens, valid, b))[0]
    assert not torch.allclose(read_a, read_b)  # the action head's input depends on the trace


@pytest.mark.parametrize(("every", "calls", "generations"), [(1, 6, 6), (3, 6, 2), (0, 6, 1)])
def test_trace_reuse(every: int, calls: int, generations: int) -> None:
    policy = _build(_reasoning_config(every=every)).eval()
    obs = make_obs(policy.config)
    for _ in range(calls):
        policy.sample_actions(obs)
    assert (policy.trace_generations, policy.trace_calls) == (generations, calls)
    policy.sample_actions({**obs, "instruction": "open the drawer"})  # a new subtask: a new trace
    assert policy.trace_generations == generations + 1 and policy.reasoning.startswith(
        "subtask: open the drawer"
    )
    policy.reset()
    assert policy.reasoning is None
    policy.sample_actions({**obs, "instruction": "open the drawer"})
    assert policy.trace_generations == generations + 2
    with pytest.raises(ValueError, match="reasoning reuse must be >= 0"):
        policy.set_reasoning_reuse(-1)


def test_flat_policy_has_no_trace() -> None:
    cfg = tiny_config("cnn", "l1")
    policy = VLAPolicy(cfg, VLAProcessor.fit(cfg, fit_data(cfg))).eval()
    policy.sample_actions(make_obs(cfg))
    assert policy.reasoning is None and policy.trace_generations == 0


def test_a_trace_source_replaces_each_new_trace_and_the_actions_read_it() -> None:
    policy = _build(_reasoning_config(every=1)).eval()
    obs = make_obs(policy.config)
    wanted = parse_reasoning(TRACES[2])
    seen = []

    def source(o, generated):
        seen.append((o["instruction"], generated))
        return dataclasses.replace(wanted, target=generated.target)  # keep the own target, take the rest

    own = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    own_trace = parse_reasoning(policy.reasoning)
    policy.reset()
    policy.set_trace_source(source)
    fed = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    assert seen and seen[0][0] == obs["instruction"] and seen[0][1].target == own_trace.target
    vocab = policy.processor.trace_vocab
    trace = torch.from_numpy(vocab.encode(dataclasses.replace(wanted, target=own_trace.target)))
    assert policy.reasoning == describe_trace(
        obs["instruction"], vocab.decode(trace.numpy())
    )  # offsets binned
    inputs, embs = policy.processor.prepare_obs(obs)
    expected, _, _ = policy.model.sample(
        inputs, generator=torch.Generator().manual_seed(0), trace=trace[None]
    )
    np.testing.assert_allclose(fed, policy.processor.unnormalize_actions(expected.numpy(), embs), atol=1e-6)
    assert policy.trace_generations == 2 and len(seen) == 1  # counted as new traces, one source call each
    policy.set_trace_source(None)
    policy.reset()
    again = policy.sample_actions(obs, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(again, own)


def test_a_trace_source_needs_a_reasoning_policy() -> None:
    cfg = tiny_config("cnn", "l1")
    policy = VLAPolicy(cfg, VLAProcessor.fit(cfg, fit_data(cfg))).eval()
    with pytest.raises(ValueError, match="trained with reasoning"):
        policy.set_trace_source(lambda o, g: g)
