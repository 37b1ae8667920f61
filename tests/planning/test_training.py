"""The planner and the monitor train through the trainer core: exact resume, logs, old checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hivla.checkpoints import CheckpointFormatError
from hivla.planning import LearnedPlanner, PlannerConfig
from hivla.planning.evaluate import training_corpus
from hivla.planning.monitor import MonitorConfig, MonitorData, SubtaskMonitor


def tiny_planner() -> LearnedPlanner:
    return LearnedPlanner(
        PlannerConfig(features="learned", steps=10, batch_size=16, embed_dim=8, hidden_dim=8, layers=1)
    )


def fake_monitor_data(n: int = 40) -> MonitorData:
    gen = torch.Generator().manual_seed(3)
    labels = (torch.arange(n) % 4 == 0).float()
    images = torch.randint(0, 256, (n, 2, 3, 16, 16), generator=gen, dtype=torch.uint8)
    texts = [f"pick the {c} cube" for c in ("red", "green") * (n // 2)]
    return MonitorData(images, torch.randn(n, 10, generator=gen), texts, labels, np.arange(n) // 10)


def tiny_monitor() -> SubtaskMonitor:
    torch.manual_seed(0)
    return SubtaskMonitor(MonitorConfig(widths=(4,), text_dim=8, hidden=8, steps=10, batch_size=8))


def test_planner_resume_equals_training_straight(tmp_path):
    corpus = training_corpus(60, max_chain=2)
    full, split = tiny_planner(), tiny_planner()
    straight = full.fit(corpus, out=tmp_path / "full")
    first = split.fit(corpus, out=tmp_path / "split", stop_at=4)
    rest = tiny_planner().fit(corpus, out=tmp_path / "split", resume=True)
    assert len(first) == 4 and first + rest == straight  # bit-exact
    a = LearnedPlanner.load(tmp_path / "full" / "checkpoints" / "step_0000010")
    b = LearnedPlanner.load(tmp_path / "split" / "checkpoints" / "step_0000010")
    assert a.vocab == b.vocab and all(
        torch.equal(v, b.net.state_dict()[k]) for k, v in a.net.state_dict().items()
    )
    assert all(torch.equal(v, full.net.state_dict()[k]) for k, v in a.net.state_dict().items())
    rows = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    assert {"train/loss", "train/lr", "train/grad_norm"} <= set(json.loads(rows[-1]))
    with pytest.raises(FileExistsError, match="--resume"):
        tiny_planner().fit(corpus, out=tmp_path / "full")


def test_monitor_resume_equals_training_straight(tmp_path):
    data = fake_monitor_data()
    straight = tiny_monitor().fit(data, out=tmp_path / "full", val=fake_monitor_data(16))
    first = tiny_monitor().fit(data, out=tmp_path / "split", stop_at=3, val=fake_monitor_data(16))
    resumed = tiny_monitor()
    rest = resumed.fit(data, out=tmp_path / "split", resume=True, val=fake_monitor_data(16))
    assert len(first) == 3 and first + rest == straight  # bit-exact
    a = SubtaskMonitor.load(tmp_path / "full" / "checkpoints" / "step_0000010")
    assert all(torch.equal(v, resumed.net.state_dict()[k]) for k, v in a.net.state_dict().items())
    rows = [json.loads(r) for r in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert "val/loss" in set().union(*rows) and "train/grad_norm" not in rows[-1]  # no clipping


def test_checkpoints_written_before_the_format_key_still_load(tmp_path):
    planner, monitor = tiny_planner(), tiny_monitor()
    for obj, meta_file in ((planner, "planner.json"), (monitor, "monitor.json")):
        obj.save(tmp_path / meta_file)
        path = tmp_path / meta_file / meta_file
        meta = json.loads(path.read_text())
        assert meta.pop("format").startswith("hivla.")
        future = meta["format_version"] + 1
        if meta_file == "monitor.json":  # version 1 had no image_size (the loader migrates it)
            meta = {**meta, "format_version": 1, "config": {**meta["config"]}}
            del meta["config"]["image_size"]
        path.write_text(json.dumps(meta, indent=1))  # the layout of the first version
        type(obj).load(tmp_path / meta_file)
        path.write_text(json.dumps({**meta, "format_version": future}))
        with pytest.raises(
            CheckpointFormatError, match=f"{meta_file}: found format .* format_version {future}, expected"
        ):
            type(obj).load(tmp_path / meta_file)


def test_planner_corpus_samples_every_training_paraphrase_and_no_held_out_one() -> None:
    """The planner's corpus already draws a training paraphrase per instruction (no option needed);
    the held-out templates and connector appear only in the held-out evaluation split."""
    from hivla.planning.evaluate import generalization_splits, training_corpus
    from hivla.sim.language import CONNECTORS, TEMPLATES
    from hivla.transforms.paraphrase import parse_text

    parsed = [parse_text(e.instruction) for e in training_corpus(300, 3)]
    assert all(p is not None and not p.heldout for p in parsed)
    used = {(ph.kind, ph.template) for p in parsed for ph in p.phrases}
    assert used == {(k, i) for k, ts in TEMPLATES.items() for i in range(len(ts) - 1)}
    assert {c for p in parsed for c in p.connectors} == set(range(len(CONNECTORS) - 1))
    heldout = generalization_splits(20, 3)["heldout_paraphrases"]
    assert all(parse_text(e.instruction).heldout for e in heldout)


def test_extra_rewordings_keep_the_plans_and_the_held_out_wordings_out(tmp_path, capsys) -> None:
    from hivla.cli.main import main
    from hivla.transforms.paraphrase import parse_text

    base = training_corpus(40, 3)
    corpus = training_corpus(40, 3, paraphrases=2)
    assert len(corpus) == 3 * len(base) and corpus[: len(base)] == base
    assert all(not parse_text(e.instruction).heldout for e in corpus)
    extra = corpus[len(base) :]
    assert [e.subtasks for e in extra] == [e.subtasks for e in base for _ in range(2)]
    assert sum(e.instruction != b.instruction for e, b in zip(extra[::2], base, strict=True)) > 20
    args = ["planner", "train", "--features", "learned", "--examples", "40", "--steps", "3",
            "--eval-examples", "5", "--paraphrases", "1", "--out", str(tmp_path / "p"), "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["paraphrases"] == "1" and (tmp_path / "p" / "planner.json").is_file()
