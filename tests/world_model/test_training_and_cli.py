"""Training entry points: the CLI on a recorded debug dataset, resume, checkpoints, the experiment."""

import dataclasses
import json

import pytest
import torch

from hivla.cli.main import main
from hivla.world_model import get_wm_preset, load_world_model
from hivla.world_model.trainer import train


def test_cli_records_then_trains_a_debug_model(tmp_path, capsys):
    data, run = tmp_path / "data", tmp_path / "run"
    assert main(["train-world-model", "--preset", "debug", "--model", "latent", "--data", str(data),
                 "--out", str(run), "--steps", "4", "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["step"] == 4 and result["kind"] == "latent"
    assert (data / "meta" / "info.json").is_file()
    assert (run / "checkpoints" / "latest").is_file() and (run / "experiment.json").is_file()
    model = load_world_model(run)
    assert model.kind == "latent" and model.config.state_dim > 0


def test_resume_continues_to_the_same_weights(episodes, tmp_path):
    exp = get_wm_preset("debug", "jepa")
    exp = dataclasses.replace(
        exp,
        train=dataclasses.replace(exp.train, steps=6, save_every=3),
        data=dataclasses.replace(exp.data, val_fraction=0.0),
    )
    straight = tmp_path / "straight"
    train(exp, straight, episodes=episodes[:4], quiet=True)
    split = tmp_path / "split"
    train(exp, split, episodes=episodes[:4], quiet=True, stop_at=3)
    with pytest.raises(FileExistsError, match="--resume"):
        train(exp, split, episodes=episodes[:4], quiet=True)
    train(exp, split, episodes=episodes[:4], quiet=True, resume=True)
    a, b = load_world_model(straight).state_dict(), load_world_model(split).state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), k


def test_checkpoint_round_trip_gives_identical_predictions(trained, episodes):
    run, model = trained["latent"]
    again = load_world_model(run)
    ep = episodes[4]
    obs = {"images": {c: v[0] for c, v in ep.images.items()}, "state": ep.state[0]}
    with torch.no_grad():
        chunk = torch.from_numpy(ep.action[None, :4])
        assert torch.equal(model.rollout(model.encode(obs), chunk), again.rollout(again.encode(obs), chunk))


def test_not_a_run_directory_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-world-model"):
        load_world_model(tmp_path)
