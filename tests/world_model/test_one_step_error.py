"""A briefly trained model predicts held-out next states better than copying the last frame."""

import pytest

from hivla.world_model.metrics import episode_errors, summarize_errors


@pytest.mark.parametrize("kind", ["latent", "jepa"])
def test_one_step_error_beats_copy_last_on_held_out_episodes(kind, trained, episodes):
    _, model = trained[kind]
    held_out = episodes[4:]
    summary = summarize_errors([episode_errors(model, ep) for ep in held_out])
    assert summary["transitions"] > 20
    # In the model's own prediction space (its target embedding of the real next frame) ...
    assert summary["latent"] < summary["copy_last"], summary
    # ... and for the end effector read back from the predicted latent, in millimetres.
    assert summary["state_mm"] < summary["copy_last_state_mm"], summary
    if kind == "latent":
        assert summary["pixel"] is not None
