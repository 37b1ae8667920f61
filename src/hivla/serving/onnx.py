"""Export a trained VLA's inference graph to ONNX, and run it with onnxruntime as a rollout policy.

``export_onnx(run, out, int8=False)`` traces the whole query: vision encoder, hashed-word language
embedding, state token, transformer backbone and the head's sampling loop (the flow or diffusion
head's steps unrolled), from inputs the processor prepares (images float[1, C, 3, s, s] in 0..1,
word ids long[1, L], normalized state float[1, S], embodiment id long[1], starting noise
float[1, H, A]) to the normalized chunk float[1, H, A] (plus the located target float[1, C, 2] for
policies trained with ``localize``). The processor (normalization, hashing) stays in Python and
is loaded from the export directory's assets, as from a checkpoint. ``int8`` adds onnxruntime's
dynamic quantization (int8 weights of MatMul/Gemm, activations quantized at run time).

Every export measures its parity: the largest difference between the torch policy's and the
exported graph's actions on the same observations and noise, written into ``export.json``.

The export directory is a policy spec, ``onnx:DIR``, for ``hivla serve``, ``hivla eval`` and every
rollout. onnx and onnxruntime are imported on first use (extra ``export``).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from hivla.checkpoints import CheckpointFormat
from hivla.errors import HivlaError
from hivla.policies.runtime import RolloutPolicy
from hivla.policies.specs import register_rollout_policy
from hivla.serving.wire import require
from hivla.types import Observation

EXPORT_FORMAT = CheckpointFormat(
    name="hivla.onnx_export", version=1, meta_file="export.json", what="ONNX export",
    writer="`hivla export --format onnx`",
)  # fmt: skip
MODEL_FILE, FP32_FILE, ASSETS = "model.onnx", "model.fp32.onnx", "assets"
INPUTS = ("images", "word_ids", "state", "embodiment_id", "noise")
OPSET = 17
# the largest |torch - onnx| allowed at export, in normalized action units (actions lie in [-1, 1])
FP32_TOLERANCE = 1e-4
# int8 weights move the chunk by more: the bound the tests hold an int8 export of the debug preset to
INT8_TOLERANCE = 0.1


class ExportError(HivlaError, ValueError):
    """A policy this exporter cannot export, or an export that does not match its policy."""


def check_exportable(config: Any) -> None:
    """Raise :class:`ExportError` naming what this VLA config has that the exporter does not handle."""
    problems = []
    if config.vision.kind == "hf_vlm":
        problems.append("a Hugging Face VLM backbone (vision.kind='hf_vlm')")
    if config.language.kind != "hash":
        problems.append(f"the {config.language.kind!r} language encoder (only 'hash' is exported)")
    if config.head.discrete:
        problems.append(f"a discrete {config.head.kind!r} head (token decoding)")
    if config.reasoning.enabled:
        problems.append("reasoning traces (their decoding and reuse run in Python)")
    if getattr(config, "depth", False) or getattr(config, "contact", False):
        problems.append("depth or contact inputs (the exported graph reads RGB and state only)")
    if problems:
        raise ExportError(
            "cannot export this policy to ONNX: it has " + "; ".join(problems) + ". Export a VLA with a CNN "
            "vision encoder, the hash language encoder and a continuous head (flow, diffusion, l1), "
            "or serve the checkpoint itself with `hivla serve RUN`."
        )


def _graph(model: Any) -> Any:
    """The VLA model as a module of tensors only: (images, word_ids, state, embodiment_id, noise) ->
    (chunk float[B, H, A], located target float[B, C, 2] or nothing)."""
    from torch import nn

    class InferenceGraph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, images, word_ids, state, embodiment_id, noise):
            inputs = {"images": images, "word_ids": word_ids, "texts": [], "state": state,
                      "embodiment_id": embodiment_id}  # fmt: skip
            chunk, _, looking = self.model.sample(inputs, noise=noise)  # (B, H, A), None, (B, C, 2) | None
            return chunk if looking is None else (chunk, looking)

    return InferenceGraph().eval()


def graph_inputs(policy: Any, obs: Observation, noise: np.ndarray) -> dict[str, np.ndarray]:
    """The exported graph's inputs for one observation, prepared by the policy's processor."""
    import torch

    proc = policy.processor if hasattr(policy, "processor") else policy
    inputs, _ = proc.prepare_obs(obs)
    lang = proc.config.language
    from hivla.models.language import hash_words

    ids = np.zeros((1, lang.max_words), dtype=np.int64)  # (1, L)
    row = hash_words(inputs["texts"][0], lang.buckets, lang.max_words)
    ids[0, : len(row)] = row
    with torch.no_grad():
        return {
            "images": inputs["images"].cpu().numpy().astype(np.float32),  # (1, C, 3, s, s)
            "word_ids": ids,
            "state": inputs["state"].cpu().numpy().astype(np.float32),  # (1, S)
            "embodiment_id": inputs["embodiment_id"].cpu().numpy().astype(np.int64),  # (1,)
            "noise": np.asarray(noise, dtype=np.float32),  # (1, H, A)
        }


def example_observation(config: Any, seed: int = 0) -> Observation:
    """A random observation of the policy's inputs (images, state, an instruction)."""
    rng = np.random.default_rng(seed)
    size = config.image_size
    return {
        "images": {c: rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for c in config.cameras},
        "state": rng.normal(size=config.state_dim).astype(np.float32),
        "instruction": "put the red cube in the bowl" if seed % 2 == 0 else "push the blue block to the zone",
        "embodiment": config.embodiments[seed % len(config.embodiments)],
    }


def export_onnx(run: str | Path, out: str | Path, int8: bool = False, checks: int = 8) -> dict[str, Any]:
    """Export the policy of ``run`` (run or checkpoint directory) to ``out``; -> the export's metadata
    (sizes, parity on ``checks`` random observations). Raises :class:`ExportError`."""
    import torch

    from hivla.policies import load_policy, resolve_checkpoint
    from hivla.policies.base import WEIGHTS_FILE
    from hivla.utils.serialization import config_to_dict

    onnx = require("onnx", "export")
    ckpt = resolve_checkpoint(run)
    policy = load_policy(ckpt)
    if type(policy).__name__ != "VLAPolicy":
        raise ExportError(f"only VLA policies export to ONNX; {ckpt} holds a {type(policy).__name__}")
    config = policy.config
    check_exportable(config)
    if config.head.kind == "diffusion" and policy.model.head.expert.config.eta > 0:
        raise ExportError(
            "a diffusion head with eta > 0 draws noise at every step; export needs eta = 0 (DDIM)"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    example = graph_inputs(
        policy, example_observation(config), np.zeros((1, config.horizon, config.action_dim))
    )
    outputs = ["actions"] + (["looking"] if config.localize else [])
    start = time.perf_counter()
    fp32 = out / (FP32_FILE if int8 else MODEL_FILE)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused encoder-layer kernel has no ONNX op
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape-checking Python branches
            torch.onnx.export(
                _graph(policy.model), tuple(torch.from_numpy(example[k]) for k in INPUTS), str(fp32),
                input_names=list(INPUTS), output_names=outputs, opset_version=OPSET, dynamo=False,
            )  # fmt: skip
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    onnx.checker.check_model(str(fp32))
    if int8:
        quantization = require("onnxruntime.quantization", "export")
        quantization.quantize_dynamic(
            str(fp32), str(out / MODEL_FILE), weight_type=quantization.QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"],
        )  # fmt: skip
        fp32.unlink()
    seconds = time.perf_counter() - start
    policy.processor.save(out / ASSETS)
    meta = {
        "policy": "vla",
        "config": config_to_dict(config),
        "source": str(ckpt),
        "int8": int8,
        "inputs": list(INPUTS),
        "outputs": outputs,
        "opset": OPSET,
        "bytes": (out / MODEL_FILE).stat().st_size,
        "checkpoint_bytes": (ckpt / WEIGHTS_FILE).stat().st_size,
        "export_seconds": round(seconds, 3),
    }
    EXPORT_FORMAT.write_meta(out, meta)
    meta["parity"] = parity(policy, OnnxPolicy(out), checks)
    if not int8 and meta["parity"]["max_abs_normalized"] > FP32_TOLERANCE:
        raise ExportError(
            f"the exported graph differs from the policy by {meta['parity']['max_abs_normalized']:.2e} "
            f"(normalized actions), more than {FP32_TOLERANCE:.0e}: the export is wrong; please report it"
        )
    EXPORT_FORMAT.write_meta(out, meta)
    return meta


def parity(policy: Any, exported: OnnxPolicy, checks: int = 8) -> dict[str, float]:
    """The largest |torch - onnx| difference of the chunks on ``checks`` random observations with the
    same noise: in normalized units (actions in [-1, 1]) and in action units."""
    import torch

    config = policy.config
    rng = np.random.default_rng(0)
    worst_norm = worst_units = 0.0
    for i in range(checks):
        obs = example_observation(config, seed=i)
        noise = rng.normal(size=(1, config.horizon, config.action_dim)).astype(np.float32)
        feeds = graph_inputs(policy, obs, noise)
        inputs, embs = policy.processor.prepare_obs(obs)
        with torch.no_grad():
            ref = policy.model.sample(inputs, noise=torch.from_numpy(noise))[0].float().numpy()  # (1, H, A)
        got = exported.run(feeds)[0]  # (1, H, A)
        worst_norm = max(worst_norm, float(np.abs(ref - got).max()))
        units = policy.processor.unnormalize_actions(ref, embs) - policy.processor.unnormalize_actions(
            got, embs
        )
        worst_units = max(worst_units, float(np.abs(units).max()))
    return {"checks": checks, "max_abs_normalized": worst_norm, "max_abs_actions": worst_units}


class OnnxPolicy(RolloutPolicy):
    """A VLA exported by :func:`export_onnx`, run with onnxruntime (CPU). Policy spec ``onnx:DIR``."""

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        import torch

        from hivla.policies.vla import VLAConfig, VLAProcessor
        from hivla.utils.serialization import config_from_dict

        ort = require("onnxruntime", "export")
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path} is not a directory; expected an export of `hivla export`")
        self.meta = EXPORT_FORMAT.read_meta(self.path)
        self.config = config_from_dict(VLAConfig, self.meta["config"])
        self.processor = VLAProcessor.load(self.config, self.path / ASSETS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()  # as torch (`--threads`)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.path / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self.session.get_inputs()]  # unused inputs are pruned at export
        cfg = self.config
        self.name = f"onnx{'-int8' if self.meta['int8'] else ''}:{self.path}"
        self.action_space = cfg.action_space
        self.embodiments = tuple(cfg.embodiments)
        self.any_embodiment = cfg.any_embodiment
        self.action_dim = cfg.action_dim
        self.execute_steps = cfg.execute_steps or cfg.horizon
        self.image_size = cfg.image_size
        self._embodiment: str | None = None
        self._rng = np.random.default_rng(0)
        self._looking: dict[str, tuple[float, float]] | None = None

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The graph's outputs for prepared inputs (see :func:`graph_inputs`)."""
        return self.session.run(None, {k: feeds[k] for k in self._inputs})

    def start_episode(self, env: Any, seed: int) -> None:
        self._embodiment = env.embodiment.name
        self._rng = np.random.default_rng(seed)

    def reset(self) -> None:
        self._looking = None

    def sample_actions(self, obs: Observation) -> np.ndarray:
        if self._embodiment is not None:
            obs = {**obs, "embodiment": self._embodiment}  # a new dict: the env's obs is not mutated
        noise = self._rng.standard_normal((1, self.config.horizon, self.config.action_dim))
        feeds = graph_inputs(self.processor, obs, noise)
        outputs = self.run(feeds)
        if len(outputs) > 1:
            self._looking = dict(zip(self.config.cameras, outputs[1][0].tolist(), strict=True))
        embs = [self._embodiment or obs.get("embodiment") or self.config.embodiments[0]]
        return self.processor.unnormalize_actions(outputs[0], embs)  # (1, H, A)

    @property
    def looking_at(self) -> dict[str, tuple[float, float]] | None:
        return (
            None
            if self._looking is None
            else {c: (float(u), float(v)) for c, (u, v) in self._looking.items()}
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "int8": self.meta["int8"], "bytes": self.meta["bytes"]}


@register_rollout_policy("onnx:")
def _load_onnx(spec: str) -> OnnxPolicy:
    return OnnxPolicy(spec.partition(":")[2])
