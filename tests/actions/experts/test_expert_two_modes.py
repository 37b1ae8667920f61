"""Each expert trained briefly on a two-mode toy: given the same cond, the target chunk is the
constant +1 or the constant -1 trajectory with probability 1/2 each.

Flow matching and diffusion are generative and cover both modes. L1 regression outputs one
chunk per cond, so it cannot: its loss is minimized by the median, which for two equally likely
modes is any point between them (loss 1 per value), and training lands somewhere in [-1, 1]
depending on the batches - it never represents both modes. We check exactly that.
"""

import torch

from hivla.actions.experts import make_action_expert

D, H, A = 8, 4, 2


def two_mode_batch(n, gen):
    sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)  # (n,)
    return torch.ones(n, D), sign[:, None, None].expand(n, H, A).clone()  # (n, D), (n, H, A)


def train(name, steps, seed=0, lr=2e-3, batch=128, data=two_mode_batch):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    expert = make_action_expert(name, cond_dim=D, horizon=H, action_dim=A, hidden_dim=64, depth=2)
    opt = torch.optim.Adam(expert.parameters(), lr=lr)
    for _ in range(steps):
        cond, actions = data(batch, gen)
        loss = expert.compute_loss(cond, actions)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return expert


def mode_fractions(expert, n=400):
    samples = expert.sample(torch.ones(n, D), generator=torch.Generator().manual_seed(1))
    level = samples.mean(dim=(1, 2))  # (n,) chunk mean
    return (level > 0.5).float().mean().item(), (level < -0.5).float().mean().item(), samples


def test_flow_matching_covers_both_modes():
    pos, neg, _ = mode_fractions(train("flow", steps=500))
    assert pos > 0.3 and neg > 0.3 and pos + neg > 0.9, (pos, neg)


def test_diffusion_covers_both_modes():
    pos, neg, _ = mode_fractions(train("diffusion", steps=700))
    assert pos > 0.3 and neg > 0.3 and pos + neg > 0.85, (pos, neg)


def test_l1_regression_collapses_to_one_chunk_between_the_modes():
    expert = train("l1", steps=400)
    pos, neg, samples = mode_fractions(expert)
    assert torch.allclose(samples, samples[:1].expand_as(samples))  # one chunk for every draw
    assert min(pos, neg) == 0.0  # so at most one mode is ever produced
    assert samples.abs().max() <= 1.0 + 0.05  # and it lies between the modes
    cond, actions = two_mode_batch(4000, torch.Generator().manual_seed(9))
    with torch.no_grad():
        assert expert.compute_loss(cond, actions).item() > 0.95  # no better than predicting 0


def test_l1_regression_fits_when_cond_tells_the_mode():
    def informative(n, gen):
        cond, actions = two_mode_batch(n, gen)
        return cond * actions[:, :1, 0], actions  # cond = +-1 vector matching the target

    expert = train("l1", steps=150, data=informative)
    with torch.no_grad():
        out = expert.sample(torch.stack([torch.ones(D), -torch.ones(D)]))
    assert torch.allclose(out[0], torch.ones(H, A), atol=0.1)
    assert torch.allclose(out[1], -torch.ones(H, A), atol=0.1)
