import pytest

from hivla.planning import (
    LearnedPlanner,
    LLMPlanner,
    LLMPlannerConfig,
    OraclePlanner,
    PlanError,
)
from hivla.planning.corpus import label_example, sim_corpus
from hivla.planning.grammar import validate_plan
from hivla.planning.learned import plan_accuracy
from hivla.planning.llm import plan_to_reply
from hivla.planning.loopback import ChatServer
from hivla.planning.scene import scene_objects
from hivla.sim import make_env


def test_labels_align_words_with_steps():
    ex = sim_corpus([7], (3,))[0]
    assert len(ex.words) == len(ex.step_tags) == len(ex.roles)
    assert sum(t.startswith("B-") for t in ex.step_tags) == len(
        [s for s in ex.subtasks if s.kind != "pick"] + [s for s in ex.subtasks if s.kind == "pick"]
    ) - sum(s.kind in ("place", "stack") for s in ex.subtasks)
    assert label_example("do a dance.", ex.subtasks) is None


def test_learned_planner_learns_and_generalizes_to_longer_chains(planner):
    assert plan_accuracy(planner, sim_corpus(range(5_000_000, 5_000_060), (1, 2, 3))) >= 0.9
    # Chains longer than any seen in training (tagging is per word, so length is no obstacle).
    assert plan_accuracy(planner, sim_corpus(range(5_000_000, 5_000_060), (4, 5))) >= 0.8


def test_plans_follow_the_env_task_grammar(planner):
    env = make_env("tabletop-mixed", "floating", render=False)
    try:
        for seed in range(1_060_000, 1_060_008):
            env.reset(seed=seed)
            objects = scene_objects(env)
            validate_plan(OraclePlanner(env).plan(None, env.spec.instruction), objects)
            plan = planner.plan(None, env.spec.instruction, objects)  # validates, or raises PlanError
            assert all(s.obj is None or s.obj in objects for s in plan.subtasks)
    finally:
        env.close()


def test_save_load_gives_the_same_tags(planner, tmp_path):
    planner.save(tmp_path / "p")
    loaded = LearnedPlanner.load(tmp_path / "p")
    text = "Open the drawer, then put the red cube in the green bowl."
    assert loaded.tag(text) == planner.tag(text)
    with pytest.raises(FileNotFoundError, match=r"planner\.json"):
        LearnedPlanner.load(tmp_path / "missing")


def test_llm_planner_over_loopback_answers_with_the_learned_planner(planner):
    instruction = "Press the button, then stack the red cube on the blue cube."
    objects = {"red cube": "cube", "blue cube": "cube"}
    expected = planner.plan(None, instruction, objects)
    with ChatServer(lambda messages: plan_to_reply(expected)) as server:
        got = LLMPlanner(LLMPlannerConfig(url=server.url)).plan(None, instruction, objects)
        assert "red cube (cube)" in server.requests[0]["messages"][1]["content"]
    assert got.subtasks == expected.subtasks


def test_malformed_llm_reply_is_retried_then_accepted():
    replies = iter(["Sure! Here is the plan: open the drawer", '{"subtasks": [{"kind": "open_drawer"}]}'])
    with ChatServer(lambda messages: next(replies)) as server:
        plan = LLMPlanner(LLMPlannerConfig(url=server.url, retries=2)).plan(None, "open the drawer")
        assert "invalid" in server.requests[1]["messages"][-1]["content"]
    assert [s.kind for s in plan.subtasks] == ["open_drawer"]


@pytest.mark.parametrize(
    "reply",
    [
        "not json",
        '{"steps": []}',
        '{"subtasks": [{"kind": "teleport"}]}',
        '{"subtasks": [{"kind": "place", "object": "red cube"}]}',
    ],
)
def test_always_malformed_llm_reply_is_a_clear_error(reply):
    with (
        ChatServer(lambda messages: reply) as server,
        pytest.raises(PlanError, match="no valid plan after 2 tries"),
    ):
        LLMPlanner(LLMPlannerConfig(url=server.url, retries=1)).plan(None, "do it")


def test_unreachable_llm_endpoint_is_a_clear_error():
    with pytest.raises(PlanError, match="cannot reach LLM endpoint"):
        LLMPlanner(LLMPlannerConfig(url="http://127.0.0.1:9", timeout=2)).plan(None, "open the drawer")


def test_spatial_subtasks_follow_the_grammar_and_parse_back():
    """Every subtask of the spatial suites (a stack on "the highest block" among them) validates
    against the scene and its canonical text parses back to it."""
    from hivla.planning.grammar import parse_subtask_text

    env = make_env("tabletop-spatial-chain", "floating", render=False)
    try:
        for seed in range(1_090_000, 1_090_010):
            env.reset(seed=seed)
            plan = validate_plan(OraclePlanner(env).plan(None, env.spec.instruction), scene_objects(env))
            for sub in plan.subtasks:
                back = parse_subtask_text(sub.text)
                assert (back.kind, back.obj, back.target) == (sub.kind, sub.obj, sub.target)
    finally:
        env.close()


def test_learned_planner_learns_blocks_named_by_height():
    """Trained with spatial instructions too, the tagger plans them (the relation kept as the target,
    not snapped to a block's name)."""
    from hivla.planning import PlannerConfig
    from hivla.planning.evaluate import training_corpus

    spatial = sim_corpus(range(7_000_000, 7_000_300), (2, 3, 4), blocks=3)
    assert all(ex is not None for ex in spatial)
    p = LearnedPlanner(PlannerConfig(features="learned", steps=250, hidden_dim=48, embed_dim=32))
    p.fit(training_corpus(300, max_chain=3) + spatial)
    heldout = sim_corpus(range(7_500_000, 7_500_060), (2, 3, 4), blocks=3)
    assert plan_accuracy(p, heldout) >= 0.9
    env = make_env("tabletop-spatial", "floating", render=False)
    try:
        env.reset(seed=1_080_000)
        plan = p.plan(None, env.spec.instruction, scene_objects(env))
        assert plan.subtasks[-1].target == env.spec.subtasks[-1].target in ("highest block", "lowest block")
    finally:
        env.close()
