import pytest

from hivla.evaluation import EvalConfig, evaluate
from hivla.planning.hierarchical import HierarchicalPolicy, OracleMonitor
from hivla.planning.learned import LearnedPlanner
from hivla.planning.spec import HierarchicalSpec, HierarchicalSpecError
from hivla.policies import PolicyLoadError, load_rollout_policy

BUILTINS = "hierarchical:low=subtask-expert,planner=oracle,monitor=oracle"


def test_spec_parses_every_key():
    spec = HierarchicalSpec.parse(
        "hierarchical:low=runs/sub, planner=llm:http://127.0.0.1:8080/v1?x=1,monitor=runs/mon,retries=0,replans=3"
    )
    assert spec == HierarchicalSpec("runs/sub", "llm:http://127.0.0.1:8080/v1?x=1", "runs/mon", 0, 3)
    assert HierarchicalSpec.parse("hierarchical:low=subtask-expert") == HierarchicalSpec("subtask-expert")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hierarchical:planner=oracle", r"low=\.\.\. \(the low-level policy\) is required"),
        ("hierarchical:low=subtask-expert,planner", r"part 'planner' is not key=value"),
        ("hierarchical:low=subtask-expert,plan=oracle", r"unknown key 'plan'; expected one of low, planner"),
        ("hierarchical:low=a,low=b", r"key 'low' is given twice"),
        ("hierarchical:low=subtask-expert,planner=learned", r"expected oracle, learned:DIR .* or llm:URL"),
        ("hierarchical:low=subtask-expert,retries=-1", r"retries='-1' must be a whole number"),
        ("hierarchical:low=hierarchical:low=x", r"not another hierarchical spec"),
    ],
)
def test_malformed_specs_say_what_was_expected(spec, message):
    with pytest.raises(HierarchicalSpecError, match=message):
        HierarchicalSpec.parse(spec)
    with pytest.raises(PolicyLoadError, match=message):
        load_rollout_policy(spec)


def test_spec_builds_the_named_parts(planner, tmp_path):
    planner.save(tmp_path / "planner")
    policy = load_rollout_policy(f"hierarchical:low=subtask-expert,planner=learned:{tmp_path / 'planner'}")
    assert isinstance(policy, HierarchicalPolicy) and isinstance(policy.planner, LearnedPlanner)
    assert isinstance(policy.monitor, OracleMonitor) and policy.low.name == "subtask-expert"
    assert not policy.needs_images  # scripted low level and oracle monitor: no rendering needed
    with pytest.raises(FileNotFoundError, match=r"monitor\.json"):
        load_rollout_policy(f"hierarchical:low=subtask-expert,monitor={tmp_path / 'nothing'}")


def test_builtin_hierarchy_matches_the_expert_on_chain_2():
    expert = evaluate(EvalConfig(policy="expert", suite="tabletop-chain-2", episodes=2, videos=0))
    hier = evaluate(EvalConfig(policy=BUILTINS, suite="tabletop-chain-2", episodes=2, videos=0))
    assert hier.policy["spec"] == BUILTINS
    assert hier.metrics["overall"]["success"] >= expert.metrics["overall"]["success"] > 0
