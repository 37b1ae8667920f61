"""Export a trained policy's inference graph (encoders, backbone, the head's sampling loop) to ONNX
for onnxruntime, optionally with int8 dynamic quantization. The export directory is a policy spec,
onnx:DIR, for `hivla serve` and `hivla eval`. Every export checks itself: the largest difference
between the policy's and the exported graph's actions on the same inputs is printed and written to
export.json (fp32 must stay within 1e-4 of the policy, in normalized action units).

Examples:
  hivla export runs/my-vla --format onnx                  # -> runs/my-vla/export/onnx
  hivla export runs/my-vla --format onnx --int8           # -> runs/my-vla/export/onnx-int8
  hivla eval --policy onnx:runs/my-vla/export/onnx-int8 --suite tabletop-single
  hivla serve onnx:runs/my-vla/export/onnx --port 8000
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class Config:
    """Export a trained VLA to ONNX."""

    run: tyro.conf.Positional[Path]
    """Run or checkpoint directory (written by `hivla train`)."""
    format: str = "onnx"
    """Export format: onnx."""
    int8: bool = False
    """Quantize the weights of MatMul/Gemm to int8 (onnxruntime dynamic quantization)."""
    out: Path | None = None
    """Export directory; default RUN/export/onnx (or onnx-int8)."""
    checks: int = 8
    """Random observations on which the export's actions are compared with the policy's."""

    def __post_init__(self) -> None:
        if self.format != "onnx":
            raise ValueError(f"unknown export format {self.format!r}; available: onnx")
        if self.checks < 1:
            raise ValueError(f"--checks must be >= 1, got {self.checks}")


def run(cfg: Config, quiet: bool = False) -> dict:
    from hivla.serving.onnx import export_onnx

    out = cfg.out or cfg.run / "export" / ("onnx-int8" if cfg.int8 else "onnx")
    meta = export_onnx(cfg.run, out, int8=cfg.int8, checks=cfg.checks)
    parity = meta["parity"]
    if not quiet:
        kind = "ONNX int8" if cfg.int8 else "ONNX fp32"
        print(
            f"{kind}: {out / 'model.onnx'} ({meta['bytes'] / 1e6:.2f} MB; weights of the checkpoint "
            f"{meta['checkpoint_bytes'] / 1e6:.2f} MB) in {meta['export_seconds']:.1f} s\n"
            f"parity on {parity['checks']} observations: max |torch - onnx| = {parity['max_abs_normalized']:.2e} "
            f"(normalized), {parity['max_abs_actions']:.2e} (action units)\n"
            f"use it: hivla eval --policy onnx:{out}   |   hivla serve onnx:{out}"
        )
    return {"out": str(out), "bytes": meta["bytes"], "checkpoint_bytes": meta["checkpoint_bytes"],
            "int8": cfg.int8, "parity": parity}  # fmt: skip
