"""Run by test_ddp.py under torchrun: two debug steps (of ``argv[2]``, default 2), then each rank
writes a weight checksum."""

import dataclasses
import json
import sys
from pathlib import Path

import torch

from hivla.configs import get_preset
from hivla.training import Trainer

out = Path(sys.argv[1])
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2
cfg = get_preset("debug")
cfg = dataclasses.replace(
    cfg, train=dataclasses.replace(cfg.train, threads=1, steps=steps, val_every=0, save_every=2)
)
trainer = Trainer(cfg, out, quiet=True)
result = trainer.fit(stop_at=2)
rank = trainer.accelerator.process_index
grads_synced = sum(float(p.double().sum()) for p in trainer.policy.parameters())
(out / f"rank{rank}.json").write_text(
    json.dumps(
        {
            "processes": result["processes"],
            "checksum": grads_synced,
            "losses": result["losses"],
            "ddp": type(trainer.wrapped).__name__,  # the model as Accelerate prepared it
            "threads": torch.get_num_threads(),
        }
    )
)
