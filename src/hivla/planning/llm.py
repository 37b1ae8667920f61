"""A planner backed by any OpenAI-compatible chat-completions endpoint (llama.cpp, vLLM, ...).

The prompt lists the task grammar and the scene's objects and asks for JSON only. A reply that is not
valid JSON, does not follow the schema, or fails plan validation is sent back with the error for
another try; after ``retries`` it raises :class:`PlanError` naming what was wrong.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from hivla.planning.grammar import SUBTASK_KINDS, PlanError, Step, expand_steps, validate_plan
from hivla.types import Plan

SYSTEM_PROMPT = """You turn a robot instruction into an ordered list of primitive subtasks.
Subtask kinds: pick(object); place(object, target bowl or plate); stack(object, target cube or block,
or "highest block" / "lowest block" when the instruction names a block by its height);
push(object) into the marked square; open_drawer; close_drawer; press_button.
A place or stack must directly follow the pick of the same object.
Use object names exactly as listed. Reply with JSON only, no prose:
{"subtasks": [{"kind": "...", "object": "... or null", "target": "... or null"}, ...]}"""


@dataclass(frozen=True)
class LLMPlannerConfig:
    url: str  # e.g. http://127.0.0.1:8080/v1/chat/completions (or the server root)
    model: str = "default"
    api_key: str | None = None
    retries: int = 2
    timeout: float = 30.0
    temperature: float = 0.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"LLM planner url must start with http:// or https://, got {self.url!r}")
        if self.retries < 0 or self.timeout <= 0:
            raise ValueError(f"retries must be >= 0 and timeout > 0, got {self.retries}, {self.timeout}")

    @property
    def endpoint(self) -> str:
        url = self.url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/v1/chat/completions"


class LLMPlanner:
    name = "llm"

    def __init__(self, cfg: LLMPlannerConfig) -> None:
        self.cfg = cfg

    def plan(self, obs, instruction: str, objects: dict[str, str] | None = None) -> Plan:
        scene = ", ".join(f"{n} ({s})" for n, s in sorted((objects or {}).items())) or "unknown"
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Objects on the table: {scene}.\nInstruction: {instruction}"},
        ]
        errors: list[str] = []
        for _ in range(self.cfg.retries + 1):
            reply = self._complete(messages)
            try:
                return parse_reply(reply, instruction, objects)
            except PlanError as err:
                errors.append(str(err))
                messages += [
                    {"role": "assistant", "content": reply},
                    {
                        "role": "user",
                        "content": f"That reply was invalid: {err}. Reply again with JSON only.",
                    },
                ]
        raise PlanError(
            f"LLM planner gave no valid plan after {self.cfg.retries + 1} tries: {'; '.join(errors)}"
        )

    def _complete(self, messages: list[dict]) -> str:
        body = json.dumps(
            {"model": self.cfg.model, "messages": messages, "temperature": self.cfg.temperature}
        )
        headers = {"Content-Type": "application/json"}
        if self.cfg.api_key:
            headers["Authorization"] = f"Bearer {self.cfg.api_key}"
        request = urllib.request.Request(self.cfg.endpoint, body.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.cfg.timeout) as response:
                data = json.loads(response.read().decode())
        except urllib.error.HTTPError as err:
            raise PlanError(
                f"LLM endpoint {self.cfg.endpoint} answered HTTP {err.code}: {err.read()[:200]!r}"
            ) from err
        except (urllib.error.URLError, TimeoutError) as err:
            raise PlanError(f"cannot reach LLM endpoint {self.cfg.endpoint}: {err}") from err
        except json.JSONDecodeError as err:
            raise PlanError(f"LLM endpoint {self.cfg.endpoint} did not return JSON: {err}") from err
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as err:
            raise PlanError(
                f"LLM endpoint reply lacks choices[0].message.content: {str(data)[:200]}"
            ) from err


def parse_reply(reply: str, instruction: str, objects: dict[str, str] | None) -> Plan:
    """JSON reply -> validated Plan. Accepts a fenced code block. Raises PlanError."""
    text = reply.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"reply is not JSON ({err.msg} at position {err.pos}): {reply[:120]!r}") from None
    items = data.get("subtasks") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PlanError('reply must be an object with a "subtasks" list')
    steps: list[Step] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind") not in SUBTASK_KINDS:
            raise PlanError(
                f"subtask {i}: expected an object with kind in {list(SUBTASK_KINDS)}, got {item!r}"
            )
        if item["kind"] == "pick" and i + 1 < len(items) and isinstance(items[i + 1], dict):
            nxt = items[i + 1]
            if nxt.get("kind") in ("place", "stack") and nxt.get("object") == item.get("object"):
                continue  # the place/stack step brings its own pick
        steps.append(Step(item["kind"], item.get("object"), item.get("target")))
    return validate_plan(Plan(instruction, tuple(expand_steps(steps))), objects)


def plan_to_reply(plan: Plan) -> str:
    """The JSON an endpoint should answer for ``plan`` (used by tests and the loopback server)."""
    items = [
        {"kind": s.kind, "object": s.obj, "target": None if s.kind == "push" else s.target}
        for s in plan.subtasks
    ]
    return json.dumps({"subtasks": items})
