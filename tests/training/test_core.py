"""The trainer core over a tiny fake model: exact resume, EMA, logs, in-memory runs, schedules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from hivla.configs.presets import TrainConfig
from hivla.training.core import Split, TrainerCore, TrainingTask, check_new_run
from hivla.training.data import RowsDataset
from hivla.training.optim import make_optimizer, make_scheduler


class NoisyRegression(nn.Module):
    """y = w x + b with input dropout, so that the loss draws from the RNG the core must restore."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, batch):
        x = nn.functional.dropout(batch["x"], 0.2, self.training)  # (B, 3)
        loss = ((self.lin(x).squeeze(-1) - batch["y"]) ** 2).mean()
        return loss, {"loss": float(loss.detach())}


class FakeTask(TrainingTask):
    name = "fake"

    def __init__(self, train: TrainConfig) -> None:
        super().__init__(train)
        self.saved: list[Path] = []

    def build(self, accelerator, resume_from):
        gen = torch.Generator().manual_seed(7)
        x = torch.randn(40, 3, generator=gen)
        y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
        self.train_split = Split(RowsDataset(x=x, y=y), range(32))
        self.val_split = Split(RowsDataset(x=x, y=y), range(32, 40))
        model = NoisyRegression()
        if resume_from is not None:
            from safetensors.torch import load_file

            model.load_state_dict(load_file(str(resume_from / "fake.safetensors")))
        return model.to(accelerator.device)

    def save(self, model, path, weights):
        from hivla.checkpoints import save_weights

        save_weights(weights if weights is not None else model.state_dict(), path / "fake.safetensors")
        self.saved.append(path)


def tiny(**kw) -> TrainConfig:
    base = dict(steps=12, batch_size=8, lr=0.05, warmup_steps=2, threads=1, log_every=4, val_every=6)
    return TrainConfig(**{**base, "save_every": 0, **kw})


def weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    latest = (run / "checkpoints" / "latest").read_text().strip()
    return load_file(str(run / "checkpoints" / latest / "fake.safetensors"))


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_train_then_resume_equals_training_straight(tmp_path, ema):
    cfg = tiny(ema_decay=ema)
    full = TrainerCore(FakeTask(cfg), tmp_path / "full", quiet=True).fit()
    first = TrainerCore(FakeTask(cfg), tmp_path / "split", quiet=True).fit(stop_at=5)
    rest = TrainerCore(FakeTask(cfg), tmp_path / "split", quiet=True, resume=True).fit()
    assert first["step"] == 5 and rest["step"] == full["step"] == 12
    assert first["losses"] + rest["losses"] == full["losses"]  # bit-exact
    a, b = weights(tmp_path / "full"), weights(tmp_path / "split")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full["val"] and set(full["val"]) == {"val/loss"}


def test_logs_checkpoints_and_eval_hook(tmp_path):
    calls = []

    def eval_fn(model, step):
        calls.append((step, model.training))
        return {"eval/score": 1.0}

    task = FakeTask(tiny(save_every=4, keep_checkpoints=2, eval_every=6))
    result = TrainerCore(task, tmp_path / "run", eval_fn=eval_fn, quiet=True).fit()
    assert calls == [(6, False), (12, False)]
    assert [p.name for p in task.saved] == ["step_0000004", "step_0000008", "step_0000012"]
    kept = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*"))
    assert kept == ["step_0000008", "step_0000012"]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    keys = set().union(*rows)
    assert {
        "train/loss",
        "train/lr",
        "train/grad_norm",
        "train/samples_per_s",
        "val/loss",
        "eval/score",
    } <= keys
    assert list((tmp_path / "run" / "tensorboard").glob("events.*"))
    assert result["checkpoint"].endswith("step_0000012") and result["processes"] == 1


def test_in_memory_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = FakeTask(tiny())
    result = TrainerCore(task, None, quiet=True).fit()
    assert len(result["losses"]) == 12 and result["checkpoint"] is None and not task.saved
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="resume=True needs"):
        TrainerCore(FakeTask(tiny()), None, resume=True)


def test_progress_lines_without_a_terminal(tmp_path, capsys):
    TrainerCore(FakeTask(tiny()), None, quiet=False).fit()
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines and lines[-1].startswith("fake step 12/12  loss ") and lines[-1].endswith(" samples/s  left 0s")
    )
    assert float(lines[-1].split()[-4]) > 0  # counted from the start, not only at log steps


def test_a_new_run_refuses_a_directory_with_checkpoints(tmp_path):
    TrainerCore(FakeTask(tiny(steps=2)), tmp_path, quiet=True).fit()
    with pytest.raises(FileExistsError, match="--resume"):
        check_new_run(tmp_path, resume=False)
    check_new_run(tmp_path, resume=True)
    with pytest.raises(FileNotFoundError, match="drop --resume"):
        TrainerCore(FakeTask(tiny()), tmp_path / "empty", resume=True, quiet=True).fit()


def test_schedules():
    model = nn.Linear(2, 2)
    cycle = make_scheduler(make_optimizer(model, 3e-3, 0.0), "one_cycle", 0, 50, 0.1)
    opt = cycle.optimizer
    ref_opt = torch.optim.AdamW(nn.Linear(2, 2).parameters(), lr=3e-3)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, 3e-3, total_steps=50)
    for _ in range(50):
        assert opt.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12)
        assert opt.param_groups[0]["betas"][0] == pytest.approx(ref_opt.param_groups[0]["betas"][0])
        opt.step(), ref_opt.step(), cycle.step(), ref.step()
    constant = make_scheduler(make_optimizer(model, 0.1, 0.0), "constant", 0, 50, 0.1)
    for _ in range(3):
        constant.optimizer.step(), constant.step()
    assert constant.get_last_lr() == [0.1, 0.1]
    warm = make_scheduler(make_optimizer(model, 0.1, 0.0), "warmup_cosine", 10, 50, 0.1)
    assert warm.get_last_lr()[0] == pytest.approx(0.01)
    with pytest.raises(ValueError, match=r"train\.schedule must be one of"):
        TrainConfig(schedule="linear")
