"""``ReAct``: reason, call a tool, observe, repeat; then answer from what was gathered.

::

    def lookup(city: str) -> str:
        '''The current temperature of a city, in degrees Celsius.'''
        return {"Paris": "21"}.get(city, "unknown")

    agent = ReAct("question -> answer: int", tools=[lookup], max_iters=4)
    pred = agent(question="How warm is it in Paris?")
    pred.answer          # 21
    pred.trajectory      # [ReActStep(thought=..., tool_name="lookup", tool_args={...}, ...), ...]

Each step asks the model for a thought and a tool call; the tool runs and its result (or
its error, as text) becomes the step's observation. How the model calls tools:

- natively (``native_tools=True``, the default when the model has tool calling: OpenAI and
  compatible servers, Anthropic, Gemini, Ollama): the tools are declared in the request and
  the conversation carries the calls and their results; a turn without a tool call ends the
  loop, and a turn may call several tools;
- through the adapter's fields otherwise: one ``Predict`` call per step on the inputs plus
  the trajectory so far, asking for ``next_thought``, ``next_tool_name`` and
  ``next_tool_args`` (a JSON object); the model ends the loop by choosing ``finish``.

After ``max_iters`` steps the loop ends anyway. A ``ChainOfThought`` then produces the
signature's outputs from the inputs and the trajectory. Errors of the LM or of parsing a
step are raised, not turned into observations.

Guards, each recorded on the prediction (``notices``, ``stop_reason``) and in the stream:

- stagnation: a tool call repeating an earlier one (same tool, same arguments) is not run
  again; its observation tells the model so (``on_repeat="nudge"``) and the loop stops at
  the ``max_repeats``-th repeat, or at the first one with ``on_repeat="stop"``;
- context overflow: when the provider rejects a step because the prompt is too long, the
  oldest steps are hidden from the model (not from ``pred.trajectory``) and the step is sent
  again. Before that point, the trajectory is kept under ``max_trajectory_tokens`` (by default
  half the model's context window, when the model or the price data knows it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from lmbench.calls import module_call
from lmbench.errors import ConfigError, ProviderError
from lmbench.modules.base import Module, attached
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.events import Notice, StepStarted, ToolFinished, ToolStarted
from lmbench.modules.inputs import check_inputs
from lmbench.modules.loop_setup import (
    check_added_fields,
    check_max_iters,
    quoted_outputs,
    trajectory_outputs_signature,
)
from lmbench.modules.predict import Predict
from lmbench.modules.react_native import NativeConversation, NativeTurn
from lmbench.modules.react_trajectory import (
    ReActStep,
    Run,
    ToolRun,
    format_trajectory,
    observation_text,
)
from lmbench.modules.running import sub_call
from lmbench.observe.cost import context_window
from lmbench.primitives.prediction import Prediction
from lmbench.settings import get_lm
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature, ensure_signature
from lmbench.steps import Steps
from lmbench.tools import Tool

__all__ = ["FINISH", "ReAct", "ReActStep", "format_trajectory", "observation_text"]

FINISH = "finish"
_ADDED_FIELDS = ("trajectory", "next_thought", "next_tool_name", "next_tool_args")
_CHARS_PER_TOKEN = 4
# How providers say a prompt does not fit the model's context window.
_OVERFLOW = re.compile(
    r"context.{0,20}(length|window|limit)|maximum context|prompt is too long|too many tokens|"
    r"input.{0,20}too long|reduce the length|exceeds? the .{0,30}(context|token)",
    re.IGNORECASE,
)


class ReAct(Module):
    """A tool-using loop over a signature; see the module docstring.

    ``tools`` are ``Tool`` objects or plain functions (wrapped with ``Tool``); other keywords
    (``lm``, ``adapter``, ``config``...) go to the inner predictors. ``native_tools``: None
    (use the model's tool calling when it has it), True or False. The prediction has the
    signature's outputs (and the extraction's ``reasoning``), ``trajectory`` (the list of
    ``ReActStep``), ``finished`` (False when the loop did not end by the model's choice),
    ``stop_reason`` ("finish", "max_iters" or "stagnation"), ``notices`` (stagnation and
    truncation, as ``Notice`` events), ``hidden_steps`` (how many of the oldest steps the
    model no longer saw at the end) and ``native_tools`` (how the tools were called).
    """

    def __init__(
        self,
        signature: Signature | str,
        tools: Sequence[Tool | Callable[..., Any]],
        *,
        max_iters: int = 5,
        native_tools: bool | None = None,
        on_repeat: Literal["nudge", "stop"] = "nudge",
        max_repeats: int = 2,
        max_trajectory_tokens: int | None = None,
        callbacks: Sequence[Any] = (),
        **predict_kwargs: Any,
    ) -> None:
        self.signature = ensure_signature(signature)
        check_added_fields("ReAct", self.signature, (*_ADDED_FIELDS, "reasoning"))
        check_max_iters("ReAct", max_iters, "step")
        if on_repeat not in ("nudge", "stop"):
            raise ConfigError(f"on_repeat={on_repeat!r}: use 'nudge' or 'stop'")
        if max_repeats < 1:
            raise ConfigError(f"max_repeats={max_repeats!r}: use 1 or more")
        self.max_iters = max_iters
        self.native_tools = native_tools
        self.on_repeat = on_repeat
        self.max_repeats = max_repeats
        self.max_trajectory_tokens = max_trajectory_tokens
        self.callbacks = tuple(callbacks)  # cover the steps, the tools and the extraction
        self.tools = _tool_table(tools)
        self.react = Predict(self._step_signature(), **predict_kwargs)
        self.native = Predict(self._native_signature(), **predict_kwargs)
        self.extract = ChainOfThought(self._extract_signature(), **predict_kwargs)

    # -- signatures ----------------------------------------------------------------------------

    def _step_signature(self) -> Signature:
        outputs = quoted_outputs(self.signature)
        catalogue = "\n".join(
            f"- {tool.name}: {tool.description} Arguments (JSON schema): "
            f"{json.dumps(tool.parameters.get('properties', {}), ensure_ascii=False)}"
            for tool in self.tools.values()
        )
        instructions = (
            f"{self.signature.instructions}\n\n"
            f"Work towards the outputs {outputs} one step at a time. At each step you see the "
            "inputs and the trajectory so far: earlier thoughts, tool calls and what each call "
            "returned. Write your next thought, then pick one tool and give its arguments as a "
            f"JSON object. Once the trajectory holds what the outputs need, pick `{FINISH}` "
            "with arguments {}.\n\n"
            f"Tools:\n{catalogue}\n"
            f"- {FINISH}: ends the work, so the outputs can be written. Arguments: {{}}"
        )
        names = (*self.tools, FINISH)
        specs = [
            *self.signature.input_fields.values(),
            FieldSpec("trajectory", "input", str, desc="earlier steps and their observations"),
            FieldSpec("next_thought", "output", str, desc="reasoning about what to do next"),
            FieldSpec("next_tool_name", "output", Literal[names], desc="the tool to call"),  # type: ignore[valid-type]
            FieldSpec(
                "next_tool_args", "output", dict[str, Any], desc="the tool's arguments as JSON"
            ),
        ]
        return Signature(specs, instructions, name=f"{self.signature.name}Step")

    def _native_signature(self) -> Signature:
        outputs = quoted_outputs(self.signature)
        instructions = (
            f"{self.signature.instructions}\n\n"
            f"Work towards the outputs {outputs}. Call the tools you were given to gather what "
            "they need; each tool's result comes back to you. Write your reasoning as the "
            "next thought with every turn. When you have what the outputs need, reply with a "
            "last thought and call no tool."
        )
        specs = [
            *self.signature.input_fields.values(),
            FieldSpec("next_thought", "output", str, desc="reasoning about what to do next"),
        ]
        return Signature(specs, instructions, name=f"{self.signature.name}Step")

    def _extract_signature(self) -> Signature:
        return trajectory_outputs_signature(
            self.signature,
            "the steps taken and their observations",
            "the work done with tools for these inputs",
        )

    # -- running -------------------------------------------------------------------------------

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Prediction]:
        inputs = check_inputs(self.signature, inputs)
        run = Run()
        with module_call(
            type(self).__name__, signature=self.signature.name, callbacks=self.callbacks
        ) as node:
            conversation = self._conversation(inputs)
            limit = self._trajectory_limit(conversation)
            for number in range(1, self.max_iters + 1):
                if streaming:
                    yield StepStarted(type(self).__name__, number, self.max_iters, "step")
                if limit is not None:
                    yield from self._fit(run, conversation, limit, streaming)
                if conversation is None:
                    stop = yield from self._field_step(inputs, run, streaming)
                else:
                    stop = yield from self._native_step(conversation, run, streaming)
                if stop:
                    break
            if streaming:
                yield StepStarted(
                    type(self).__name__, len(run.steps) + 1, None, "extract the outputs"
                )
            extracted = yield from self._with_room(
                run, None, lambda: sub_call(self.extract, _shown(inputs, run), streaming), streaming
            )
            prediction = Prediction.from_inner(extracted, inputs=inputs, call=node)
            prediction.trajectory = run.steps
            prediction.finished = run.stop_reason == "finish"
            prediction.stop_reason = run.stop_reason
            prediction.notices = run.notices
            prediction.hidden_steps = run.hidden
            prediction.native_tools = conversation is not None
            return attached(prediction, node)

    def _conversation(self, inputs: dict[str, Any]) -> NativeConversation | None:
        """The start of a native tool-calling run, or None to call tools through fields."""
        if self.native_tools is False:
            return None
        if self.native_tools is None and not get_lm(self.native.lm).capabilities.tools:
            return None
        lm, adapter, config, demos, checked = self.native._prepare(None, dict(inputs))
        signature = self.native._signature_for_call()
        return NativeConversation(
            lm,
            adapter,
            signature,
            adapter.format(signature, checked, demos),
            tuple(tool.to_spec() for tool in self.tools.values()),
            config,
        )

    def _trajectory_limit(self, conversation: NativeConversation | None) -> int | None:
        """``max_trajectory_tokens``, else half the model's context window (None: unknown)."""
        if self.max_trajectory_tokens is not None:
            return self.max_trajectory_tokens
        lm = conversation.lm if conversation is not None else get_lm(self.react.lm)
        window = context_window(lm)
        return window // 2 if window else None

    def _field_step(self, inputs: dict[str, Any], run: Run, streaming: bool) -> Steps[bool]:
        """One step through the adapter's fields; True when the loop ends."""
        step = yield from self._with_room(
            run, None, lambda: sub_call(self.react, _shown(inputs, run), streaming), streaming
        )
        thought, name = step["next_thought"], step["next_tool_name"]
        args = dict(step["next_tool_args"] or {})
        if name == FINISH:
            run.steps.append(ReActStep(thought, name, args, "Done."))
            run.stop_reason = "finish"
            return True
        yield from self._act(run, thought, name, args, streaming)
        return run.stop_reason == "stagnation"

    def _native_step(
        self, conversation: NativeConversation, run: Run, streaming: bool
    ) -> Steps[bool]:
        """One turn of native tool calling (its calls run in order); True when the loop ends."""
        turn: NativeTurn = yield from self._with_room(
            run, conversation, lambda: conversation.turn(streaming), streaming
        )
        if not turn.calls:
            run.steps.append(ReActStep(turn.thought, FINISH, {}, "Done."))
            run.stop_reason = "finish"
            return True
        observations = []
        for call in turn.calls:
            if call.arguments_error is not None:  # never run on arguments the model did not send
                step = ReActStep(
                    turn.thought,
                    call.name,
                    dict(call.arguments),
                    f"Error: the arguments of this call were {call.arguments_error}; call "
                    f"{call.name} again with its arguments as one complete JSON object.",
                    error=True,
                )
                run.steps.append(step)
            else:
                step = yield from self._act(
                    run, turn.thought, call.name, dict(call.arguments), streaming
                )
            observations.append(step.observation)
        conversation.answered(turn, observations)
        return run.stop_reason == "stagnation"

    def _act(
        self, run: Run, thought: str, name: str, args: dict[str, Any], streaming: bool
    ) -> Steps[ReActStep]:
        """Run a tool call, or answer a repeated one without running it (stagnation)."""
        number = len(run.steps) + 1
        earlier = _earlier_call(run.steps, name, args)
        if earlier is not None:
            yield from self._repeated(run, thought, name, args, earlier, streaming)
            return run.steps[-1]
        if streaming:
            yield ToolStarted(type(self).__name__, name, args, number)
        observation, error = yield ToolRun(self.tools, name, args)
        step = ReActStep(thought, name, args, observation, error)
        run.steps.append(step)
        if streaming:
            yield ToolFinished(type(self).__name__, name, observation, error, number)
        return step

    def _repeated(
        self,
        run: Run,
        thought: str,
        name: str,
        args: dict[str, Any],
        earlier: int,
        streaming: bool,
    ) -> Steps[None]:
        number = len(run.steps) + 1
        before = run.steps[earlier - 1]
        run.repeats += 1
        stop = self.on_repeat == "stop" or run.repeats >= self.max_repeats
        observation = (
            f"You already called {name} with these arguments at step {earlier}, and it "
            f"returned: {before.observation}\nCalling it again gives nothing new: use what "
            f"you have, change the arguments or the tool, or pick {FINISH}."
        )
        run.steps.append(ReActStep(thought, name, args, observation, before.error, earlier))
        action = "stopped the loop" if stop else "told the model instead of running it again"
        notice = Notice(
            type(self).__name__,
            "stagnation",
            f"step {number} repeats the call of step {earlier} ({name}); {action}",
            {"step": number, "repeat_of": earlier, "tool": name, "arguments": args, "stop": stop},
        )
        yield from _noticed(run, notice, streaming)
        if stop:
            run.stop_reason = "stagnation"

    # -- fitting the context -------------------------------------------------------------------

    def _with_room(
        self,
        run: Run,
        conversation: NativeConversation | None,
        ask: Callable[[], Steps[Any]],
        streaming: bool,
    ) -> Steps[Any]:
        """``ask()``; when the provider finds the prompt too long, hide the oldest step from
        the model and ask again (until no step is left to hide)."""
        while True:
            try:
                return (yield from ask())
            except ProviderError as exc:
                if not _OVERFLOW.search(str(exc)) or not _hide_oldest(run, conversation):
                    raise
                notice = Notice(
                    type(self).__name__,
                    "truncation",
                    f"the prompt was too long for the model; the oldest steps are hidden from "
                    f"it now ({run.hidden} hidden)",
                    {"hidden": run.hidden, "reason": "context_overflow", "error": str(exc)[:300]},
                )
                yield from _noticed(run, notice, streaming)

    def _fit(
        self,
        run: Run,
        conversation: NativeConversation | None,
        limit: int,
        streaming: bool,
    ) -> Steps[None]:
        """Hide the oldest steps while the trajectory is over ``limit`` tokens."""
        before = run.hidden
        while _trajectory_tokens(run, conversation) > limit and _hide_oldest(run, conversation):
            pass
        if run.hidden > before:
            notice = Notice(
                type(self).__name__,
                "truncation",
                f"the trajectory was over {limit} tokens; the oldest steps are "
                f"hidden from the model now ({run.hidden} hidden)",
                {"hidden": run.hidden, "reason": "trajectory_limit", "limit": limit},
            )
            yield from _noticed(run, notice, streaming)

    def render(self, **inputs: Any) -> str:
        """The prompt of the first step, without calling the LM (native tool calling: the
        messages; the tools go beside them in the request)."""
        inputs = check_inputs(self.signature, inputs)
        conversation = self._conversation(inputs)
        if conversation is None:
            return self.react.render(**inputs, trajectory=format_trajectory([]))
        tools = ", ".join(t.name for t in conversation.tools)
        return self.native.render(**inputs) + f"\n\n--- tools (native) ---\n{tools}"

    def __repr__(self) -> str:
        return f"ReAct({self.signature}, tools={list(self.tools)}, max_iters={self.max_iters})"


def _shown(inputs: dict[str, Any], run: Run) -> dict[str, Any]:
    """The inputs with the trajectory as the model sees it."""
    return {**inputs, "trajectory": run.shown()}


def _noticed(run: Run, notice: Notice, streaming: bool) -> Steps[None]:
    run.notices.append(notice)
    if streaming:
        yield notice


def _earlier_call(steps: Sequence[ReActStep], name: str, args: dict[str, Any]) -> int | None:
    """The number of the first earlier step that made this very call (None if none did)."""
    for number, step in enumerate(steps, 1):
        if step.tool_name == name and step.tool_args == args and step.repeat_of is None:
            return number
    return None


def _hide_oldest(run: Run, conversation: NativeConversation | None) -> bool:
    """Hide the oldest step (a whole turn, natively) from the model; False if none is left."""
    if conversation is not None:
        dropped = conversation.drop_oldest()
        run.hidden += dropped
        return dropped > 0
    if run.hidden >= len(run.steps):
        return False
    run.hidden += 1
    return True


def _trajectory_tokens(run: Run, conversation: NativeConversation | None) -> int:
    if conversation is not None:
        chars = sum(
            len(m.text) + len(json.dumps([c.to_dict() for c in m.tool_calls]))
            for t in conversation.turns
            for m in t
        )
    else:
        chars = len(run.shown())
    return chars // _CHARS_PER_TOKEN


def _tool_table(tools: Sequence[Tool | Callable[..., Any]]) -> dict[str, Tool]:
    table: dict[str, Tool] = {}
    for item in tools:
        tool = item if isinstance(item, Tool) else Tool(item)
        if tool.name == FINISH:
            raise ConfigError(
                f"a tool is named {FINISH!r}, which ReAct uses to end the loop; rename it "
                "with Tool(func, name=...)"
            )
        if tool.name in table:
            raise ConfigError(
                f"two tools are named {tool.name!r}; give one another name with Tool(func, name=...)"
            )
        table[tool.name] = tool
    return table
