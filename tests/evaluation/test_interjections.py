import numpy as np
import pytest

from hivla.evaluation import EvalConfig, evaluate
from hivla.evaluation.config import Interjection


@pytest.mark.parametrize("bad", ["open the drawer", "x:open the drawer", "-3:open", "12:", "12:   "])
def test_malformed_interjections_name_the_expected_form(bad):
    with pytest.raises(ValueError, match=r"is not STEP:TEXT"):
        EvalConfig(interjections=(bad,))


def test_interjections_parse_in_step_order():
    cfg = EvalConfig(interjections=("30:b", "20: put the red cube in the bowl "))
    assert cfg.interjection_schedule() == (
        Interjection(20, "put the red cube in the bowl"),
        Interjection(30, "b"),
    )


class _Listener:
    """Floating-hand zero actions in chunks of 5; records the interjections and each query's step."""

    action_space = "native"
    embodiments = ("floating",)
    horizon = 5

    def __init__(self):
        self.heard, self.queries, self.plan_subtasks = [], 0, ["wait"]

    def sample_actions(self, obs):
        self.queries += 1
        return np.zeros((1, 5, 5), np.float32)  # (1, H, A)

    def reset(self):
        pass

    def interject(self, text):
        self.heard.append(text)
        self.plan_subtasks = [text]


def test_interjection_reaches_the_wrapped_policy_and_drops_the_queued_chunk():
    policy = _Listener()
    cfg = EvalConfig(episodes=1, videos=0, max_steps=12, interjections=("2:open the drawer",))
    record = evaluate(cfg, policy=policy).episodes[0]
    assert policy.heard == ["open the drawer"]
    # Queries at steps 0, 2 (the interjection drops the rest of the first chunk), 7; 12 steps in all.
    assert record.queries == policy.queries == 3
    assert record.interjections == [
        {"step": 2, "text": "open the drawer", "delivered": True, "plan_before": ["wait"],
         "plan_after": ["open the drawer"], "plan_changed": True}
    ]  # fmt: skip
