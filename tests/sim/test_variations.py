"""The training looks of the re-rendering synthesis stay outside every evaluation shift level, and
re-rendering reproduces a recorded frame exactly under the nominal look."""

import itertools

import numpy as np
import pytest

from hivla.sim import catalogue as cat
from hivla.sim import make_env
from hivla.sim import shifts as sh
from hivla.sim import variations as va


def test_lighting_levels_lie_outside_the_training_range():
    lo, hi = va.LIGHT_SCALE_RANGE
    for level in range(1, sh.MAX_LEVEL + 1):
        scale = sh.LIGHT_SCALE_BY_LEVEL[level]
        tint_off = np.abs(np.array(sh.LIGHT_TINT_BY_LEVEL[level]) - 1.0).max()
        turn = np.linalg.norm(sh.LIGHT_TURN_BY_LEVEL[level])
        outside = not lo <= scale <= hi or tint_off > va.LIGHT_TINT_MAX or turn > va.LIGHT_TURN_MAX
        assert outside, f"lighting level {level} could be drawn by the synthesis"
        assert not lo <= scale <= hi  # every level changes intensity beyond the training range


def test_table_levels_never_in_the_training_pool():
    shifted = set(sh.TABLE_BY_LEVEL[1:])
    assert shifted.isdisjoint(va.TRAIN_TABLE_MATERIALS)
    assert sh.TABLE_BY_LEVEL[0] in va.TRAIN_TABLE_MATERIALS  # the nominal table stays in training
    env = make_env("tabletop-single", "floating", image_size=64, render=False)
    textures = {int(env.model.mat_texid[env.model.material(m).id].max()) for m in va.TRAIN_TABLE_MATERIALS}
    shifted_textures = {int(env.model.mat_texid[env.model.material(m).id].max()) for m in shifted}
    assert (textures - {-1}).isdisjoint(shifted_textures - {-1})


def test_camera_levels_outside_the_jitter():
    for level in range(1, sh.MAX_LEVEL + 1):
        assert sh.CAMERA_ORBIT_DEG_PER_LEVEL * level > va.CAMERA_ORBIT_MAX_DEG


def test_jittered_training_colours_stay_nearer_their_name_than_any_heldout_colour():
    for (name, rgb), (held, hrgb) in itertools.product(
        cat.TRAIN_COLOURS.items(), cat.HELDOUT_COLOURS.items()
    ):
        gap = np.abs(np.array(rgb) - np.array(hrgb)).max()
        assert gap > 2 * va.OBJECT_COLOUR_JITTER, f"{name} jittered could look {held}"


@pytest.fixture(scope="module")
def recorded():
    from hivla.data.recorder import record_episode

    env = make_env("tabletop-mixed", "floating", image_size=64)
    episode, ok = record_episode(env, 60001)
    env.close()
    assert ok
    return episode


def _renderer(episode):
    env = make_env("tabletop-mixed", "floating", image_size=64)
    renderer = va.EpisodeRenderer(env)
    renderer.load(60001, episode.task)
    return renderer


def _inputs(episode):
    f = episode.frames
    return f["sim.qpos"], f["observation.privileged"][:, -3] > 0.5, f["annotation.target_xyz"]


def test_nominal_look_reproduces_the_recorded_frames(recorded):
    images, uv = _renderer(recorded).render(va.VisualVariation(), *_inputs(recorded))
    for cam, frames in images.items():
        diff = np.abs(frames.astype(int) - recorded.images[cam].astype(int))
        assert diff.max() <= 2, cam  # float32 positions: at most a rounding step
    np.testing.assert_allclose(uv, recorded.frames["annotation.target_uv"], atol=1e-4)


def test_sampled_looks_change_pixels_and_keep_distractors_clear(recorded):
    renderer = _renderer(recorded)
    qpos, pressed, target = _inputs(recorded)
    busy = renderer.busy_xy(qpos)
    names = {f"{c} {cat.SLOT_BY_NAME[s].shape}" for s, c in renderer.active.items()}
    for k in range(6):
        look = va.sample_variation(np.random.default_rng(k), renderer.active, busy)
        assert va.LIGHT_SCALE_RANGE[0] <= look.light_scale <= va.LIGHT_SCALE_RANGE[1]
        assert abs(look.camera_orbit_deg) <= va.CAMERA_ORBIT_MAX_DEG
        for d in look.distractors:
            assert d.slot not in renderer.active
            assert f"{d.colour} {cat.SLOT_BY_NAME[d.slot].shape}" not in names  # no second "red cube"
            assert np.linalg.norm(busy - np.array(d.xy), axis=1).min() >= va.DISTRACTOR_CLEARANCE
        images, _ = renderer.render(look, qpos[:3], pressed[:3], target[:3])
        assert np.abs(images["front"].astype(int) - recorded.images["front"][:3].astype(int)).mean() > 2.0
    # a later nominal render is not left with an earlier look
    images, _ = renderer.render(va.VisualVariation(), qpos[:3], pressed[:3], target[:3])
    assert np.abs(images["front"].astype(int) - recorded.images["front"][:3].astype(int)).max() <= 2


def test_renderer_refuses_an_episode_the_suite_no_longer_gives(recorded):
    env = make_env("tabletop-mixed", "floating", image_size=64)
    with pytest.raises(ValueError, match="suite changed"):
        va.EpisodeRenderer(env).load(60001, "Open the drawer, then dance.")
