"""World-model speed: training samples/s per preset and kind, and the runtime costs of its uses
(encode one observation, imagine a chunk, veto check, outcome prediction, one CEM plan).

python benchmarks/bench_world_model.py --presets debug quick --threads 2
python benchmarks/bench_world_model.py --run runs/wm/jepa-quick      # runtime costs of a trained model

Training uses a few fault-injecting expert episodes recorded on the fly (tabletop-single, 64 px)
and untrained models of the preset's size; numbers are medians over the timed steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(1000.0 * (time.perf_counter() - start))
    return statistics.median(times)


def train_speed(preset: str, kind: str, episodes, steps: int) -> tuple[float, int]:
    from hivla.training.data import collate
    from hivla.world_model import WORLD_MODELS, get_wm_preset
    from hivla.world_model.data import WindowDataset
    from hivla.world_model.trainer import event_pos_weight, fit_stats

    exp = get_wm_preset(preset, kind)
    first = episodes[0]
    cfg = dataclasses.replace(exp.model, state_dim=first.state.shape[1], action_dim=first.action.shape[1])
    model = WORLD_MODELS.get(kind)(cfg, fit_stats(episodes), event_pos_weight(episodes)).train()
    ds = WindowDataset(
        [e.resized(cfg.image_size, cfg.cameras) for e in episodes], cfg.horizon, cfg.outcome_horizon
    )
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    bs = exp.train.batch_size
    rng = np.random.default_rng(0)

    def step() -> None:
        batch = collate([ds[int(i)] for i in rng.integers(0, len(ds), bs)])
        loss, _ = model.compute_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.after_step()

    ms = _median_ms(step, steps)
    return bs / (ms / 1000.0), sum(p.numel() for p in model.parameters())


def runtime_costs(model, episodes, repeat: int) -> dict[str, float]:
    from hivla.world_model.outcome import OutcomePredictor
    from hivla.world_model.planning import CEMConfig, CEMPlanner

    ep = episodes[0]
    obs = {"images": {c: v[0] for c, v in ep.images.items()}, "state": ep.state[0]}
    chunk = torch.from_numpy(ep.action[None, :8])
    with torch.no_grad():
        z = model.encode(obs)
        planner = CEMPlanner(model, CEMConfig(horizon=8, samples=64, elites=8, iterations=4))
        planner.goal = model.rollout(z, chunk)[0, -1]
        outcome = OutcomePredictor(model)
        return {
            "encode one observation": _median_ms(lambda: model.encode(obs), repeat),
            "imagine 8 steps + events": _median_ms(lambda: model.imagine_events(z, chunk), repeat),
            "veto check (encode + imagine)": _median_ms(
                lambda: model.imagine_events(model.encode(obs), chunk), repeat
            ),
            "outcome prediction": _median_ms(lambda: outcome.predict(obs, chunk.numpy()), repeat),
            "CEM plan (64 x 4 iterations)": _median_ms(lambda: planner.plan(z), max(3, repeat // 5)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="*", default=["debug", "quick"])
    parser.add_argument("--kinds", nargs="*", default=["latent", "jepa"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--run", default="", help="a trained world-model run: also time its runtime uses")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from hivla.world_model import CollectSpec, load_world_model
    from hivla.world_model.sources import collect_episodes

    episodes = collect_episodes(CollectSpec(suite="tabletop-single", episodes=4))
    print(
        f"torch threads: {args.threads}; data: 4 tabletop-single episodes, {sum(e.length for e in episodes)} frames"
    )
    print("\n| preset | kind | parameters | train samples/s |")
    print("|---|---|---|---|")
    for preset in args.presets:
        for kind in args.kinds:
            sps, params = train_speed(preset, kind, episodes, args.steps)
            print(f"| {preset} | {kind} | {params / 1e6:.2f} M | {sps:.0f} |", flush=True)
    if args.run:
        model = load_world_model(args.run)
        print(f"\nruntime costs of {args.run} ({model.kind}), median ms:\n")
        print("| what | ms |")
        print("|---|---|")
        for name, ms in runtime_costs(model, episodes, args.repeat).items():
            print(f"| {name} | {ms:.2f} |", flush=True)


if __name__ == "__main__":
    main()
