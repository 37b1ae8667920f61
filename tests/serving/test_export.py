"""`hivla export --format onnx [--int8]`: the exported graph gives the policy's actions (fp32 within
1e-4 in normalized units, int8 within INT8_TOLERANCE), runs as onnx:DIR in eval and behind
`hivla serve`, and a policy the exporter cannot handle is refused with what to do."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from openpi_client.websocket_client_policy import WebsocketClientPolicy

from hivla.cli.main import main
from hivla.configs.presets import PRESETS
from hivla.models import HeadConfig
from hivla.policies import load_policy
from hivla.serving.onnx import (
    FP32_TOLERANCE,
    INT8_TOLERANCE,
    ExportError,
    OnnxPolicy,
    check_exportable,
    example_observation,
    graph_inputs,
)


def _export(capsys, run, *args) -> dict:
    assert main(["export", str(run), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def exports(debug_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    for name, extra in (("fp32", []), ("int8", ["--int8"])):
        assert main(["export", str(debug_run), "--out", str(out / name), *extra]) == 0
    return out


def test_export_parity_fp32_and_int8(debug_run, exports):
    policy = load_policy(debug_run)
    cfg = policy.config
    for name, tolerance in (("fp32", FP32_TOLERANCE), ("int8", INT8_TOLERANCE)):
        meta = json.loads((exports / name / "export.json").read_text())
        assert meta["format"] == "hivla.onnx_export" and meta["int8"] == (name == "int8")
        assert meta["parity"]["max_abs_normalized"] <= tolerance
        exported = OnnxPolicy(exports / name)
        for seed in range(3):  # observations other than the export's own checks, fresh noise
            obs = example_observation(cfg, seed=100 + seed)
            noise = (
                np.random.default_rng(seed).normal(size=(1, cfg.horizon, cfg.action_dim)).astype(np.float32)
            )
            inputs, _ = policy.processor.prepare_obs(obs)
            ref = policy.model.sample(inputs, noise=torch.from_numpy(noise))[0].numpy()  # (1, H, A)
            got = exported.run(graph_inputs(exported.processor, obs, noise))[0]
            assert np.abs(ref - got).max() <= tolerance
    fp32, int8 = (json.loads((exports / n / "export.json").read_text()) for n in ("fp32", "int8"))
    assert int8["bytes"] < fp32["bytes"]


def test_export_cli_reports_parity_and_default_location(debug_run, capsys):
    out = _export(capsys, debug_run)
    assert (
        out["out"] == str(debug_run / "export" / "onnx")
        and out["parity"]["max_abs_normalized"] <= FP32_TOLERANCE
    )


def test_onnx_policy_evaluates_and_serves(exports, tmp_path, capsys, serve):
    spec = f"onnx:{exports / 'int8'}"
    assert main(["eval", "--policy", spec, "--episodes", "2", "--max-steps", "8", "--videos", "0",
                 "--out", str(tmp_path / "eval"), "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["metrics"]["overall"]["episodes"] == 2
    with serve(spec) as server:
        client = WebsocketClientPolicy(host=server.url)
        meta = client.get_server_metadata()
        assert meta["policy"]["int8"] is True
        obs = example_observation(OnnxPolicy(exports / "int8").config)
        obs["prompt"] = obs.pop("instruction")
        assert client.infer(obs)["actions"].shape == (4, 5)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: dataclasses.replace(c, head=HeadConfig(kind="bins")), "discrete 'bins' head"),
        (
            lambda c: dataclasses.replace(c, reasoning=dataclasses.replace(c.reasoning, enabled=True)),
            "reasoning",
        ),
    ],
)
def test_unexportable_policies_are_refused_with_what_to_do(change, match):
    with pytest.raises(ExportError, match=f"{match}.*hivla serve RUN"):
        check_exportable(change(PRESETS.get("debug").policy))
