"""``Tool``: a Python function an LM can call, with a JSON schema of its arguments.

::

    def search(query: str, k: int = 3) -> list[str]:
        '''Search the encyclopedia.

        Args:
            query: what to look for
            k: how many passages to return
        '''
        ...

    tool = Tool(search)
    tool.parameters     # JSON schema built from the type hints, with the Args descriptions
    tool(query="Eiffel Tower", k="2")   # arguments validated (and coerced) first
    tool.to_spec()      # a ToolSpec for native tool calling

The name comes from the function, the description from its docstring (the text before the
``Args:`` section), argument descriptions from Google-style ``Args:`` entries, from
``Annotated[int, Field(description=...)]`` hints, or from ``arg_descriptions=``.
Arguments that fail validation raise ``ToolError`` naming the tool, the argument, the value
and the expected type; an exception inside the function is raised as ``ToolError`` too,
with the original as its cause. Callbacks see ``tool_start`` and ``tool_end`` events.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import re
import typing
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from lmbench.calls import emit
from lmbench.errors import ConfigError, ToolError, describe_error
from lmbench.lm.types import ToolSpec
from lmbench.signatures.fields import type_name

__all__ = ["Tool"]

# Names providers accept for functions (OpenAI, Anthropic and Gemini agree on this set).
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Yields|Raises|Examples?|Notes?):\s*$")
_ARG_SECTIONS = ("Args", "Arguments", "Parameters")
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


class Tool:
    """A function the model may call. Use ``Tool(func)`` or ``@Tool`` as a decorator."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        arg_descriptions: Mapping[str, str] | None = None,
    ) -> None:
        if not callable(func):
            raise ConfigError(f"Tool needs a function, got {func!r} ({type(func).__name__})")
        self.func = func
        self.name = name or getattr(func, "__name__", type(func).__name__)
        if not _NAME.match(self.name):
            raise ConfigError(
                f"tool name {self.name!r} is not accepted by LM providers: use 1-64 letters, "
                "digits, '_' or '-' (pass name=...)"
            )
        summary, doc_args = _read_docstring(inspect.getdoc(func) or "")
        self.description = description or summary or f"Calls {self.name}."
        self._signature = inspect.signature(func)
        self._model = _arguments_model(
            self.name, func, self._signature, {**doc_args, **(arg_descriptions or {})}
        )
        self.parameters = _clean_schema(self._model.model_json_schema())

    # -- describing ------------------------------------------------------------------------

    def to_spec(self) -> ToolSpec:
        """The tool as an LM request sees it (native tool calling)."""
        return ToolSpec(self.name, self.description, self.parameters)

    def signature_text(self) -> str:
        """The call as Python would show it: ``search(query: str, k: int = 3)``."""
        args = []
        for name, field in self._model.model_fields.items():
            text = f"{name}: {type_name(field.annotation)}"
            args.append(text if field.is_required() else f"{text} = {field.default!r}")
        return f"{self.name}({', '.join(args)})"

    def __repr__(self) -> str:
        return f"Tool({self.signature_text()})"

    # -- calling ---------------------------------------------------------------------------

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments checked and coerced to the hinted types; ``ToolError`` when they are bad."""
        try:
            checked = self._model.model_validate(dict(arguments))
        except ValidationError as exc:
            raise self._argument_error(exc, arguments) from None
        values = dict(checked.__dict__)
        values.update(checked.__pydantic_extra__ or {})
        return values

    def __call__(self, /, **arguments: Any) -> Any:
        """Validate the arguments, run the function and return what it returns.

        An async function is run to completion (in a worker thread when an event loop is
        already running here, as in Jupyter).
        """
        emit("tool_start", tool=self.name, arguments=dict(arguments))
        try:
            result = self._invoke(arguments)
            if inspect.isawaitable(result):
                result = _run_coroutine(result)
        except Exception as exc:
            error = self._failed(exc)
            raise error from (None if error is exc else exc)
        emit("tool_end", tool=self.name, result=result, error=None)
        return result

    async def acall(self, /, **arguments: Any) -> Any:
        """Like calling the tool, but awaits an async function on the running loop."""
        emit("tool_start", tool=self.name, arguments=dict(arguments))
        try:
            result = self._invoke(arguments)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            error = self._failed(exc)
            raise error from (None if error is exc else exc)
        emit("tool_end", tool=self.name, result=result, error=None)
        return result

    def _invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Call the function with validated arguments (positional-only ones by position)."""
        values = self.validate(arguments)
        args = [
            values.pop(p.name)
            for p in self._signature.parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_ONLY
        ]
        return self.func(*args, **values)

    def _failed(self, exc: Exception) -> ToolError:
        """The error to raise for ``exc`` (a ToolError as is, anything else wrapped), reported."""
        error = (
            exc
            if isinstance(exc, ToolError)
            else ToolError(f"tool {self.name!r} raised {describe_error(exc)}", tool=self.name)
        )
        emit("tool_end", tool=self.name, result=None, error=error)
        return error

    def _argument_error(self, exc: ValidationError, arguments: Mapping[str, Any]) -> ToolError:
        fields = self._model.model_fields
        problems: list[str] = []
        first_argument: str | None = None
        for error in exc.errors():
            location = error["loc"]
            argument = str(location[0]) if location else None
            first_argument = first_argument or argument
            if error["type"] == "missing" and argument in fields:
                expected = type_name(fields[argument].annotation)
                problems.append(f"missing argument {argument!r} ({expected})")
            elif error["type"] == "extra_forbidden":
                problems.append(f"unexpected argument {argument!r}")
            else:
                path = argument or ""
                for part in location[1:]:
                    path += f"[{part!r}]"
                expected = type_name(fields[argument].annotation) if argument in fields else "?"
                value = error.get("input")
                problems.append(
                    f"argument {path!r} expects {expected}, got {value!r} "
                    f"({type(value).__name__}): {error['msg']}"
                )
        return ToolError(
            f"tool {self.name!r} was called with bad arguments: "
            + "; ".join(problems)
            + f". Call it as {self.signature_text()}.",
            tool=self.name,
            argument=first_argument,
            value=arguments.get(first_argument) if first_argument else None,
        )


def _read_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and the Google-style ``Args:`` entries."""
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    entry_indent: int | None = None  # indentation of the entries in the Args section
    current: str | None = None
    for line in doc.splitlines():
        indent = len(line) - len(line.lstrip())
        header = _SECTION.match(line.strip())
        if header and indent == 0:
            section, entry_indent, current = header.group(1), None, None
        elif section is None:
            summary.append(line)
        elif section in _ARG_SECTIONS and line.strip():
            entry = _ARG_LINE.match(line.strip())
            if entry and (entry_indent is None or indent <= entry_indent):
                entry_indent = indent
                current = entry.group(1).lstrip("*")
                args[current] = entry.group(2).strip()
            elif current is not None:  # a continuation line of the current entry
                args[current] = f"{args[current]} {line.strip()}".strip()
    return "\n".join(summary).strip(), args


_NUMBERS = (int, float)


def _is_number(annotation: Any) -> bool:
    """An int or float argument (or an optional one)."""
    if annotation in _NUMBERS:
        return True
    args = typing.get_args(annotation)
    return type(None) in args and all(a in _NUMBERS or a is type(None) for a in args)


def _no_booleans(numeric: frozenset[str]) -> Any:
    """A check that no number argument is given as true/false (which pydantic reads as 1/0)."""

    def check(cls: type[BaseModel], value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"got the boolean {value}, expected a number")
        return value

    return field_validator(*numeric, mode="before")(classmethod(check))  # type: ignore[arg-type]


def _arguments_model(
    name: str,
    func: Callable[..., Any],
    signature: inspect.Signature,
    descriptions: Mapping[str, str],
) -> type[BaseModel]:
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        raise ConfigError(
            f"could not read the type hints of tool {name!r}: {exc}. Import the names its "
            "annotations use at module level, or annotate with real types"
        ) from None
    fields: dict[str, Any] = {}
    accepts_more = False
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ConfigError(
                f"tool {name!r} takes *{parameter.name}; a tool's arguments must have names "
                "(the model passes a JSON object)"
            )
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_more = True
            continue
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        description = descriptions.get(parameter.name)
        fields[parameter.name] = (
            annotation,
            Field(default, description=description) if description else default,
        )
    config = ConfigDict(extra="allow" if accepts_more else "forbid", arbitrary_types_allowed=True)
    numeric = frozenset(n for n, (annotation, _) in fields.items() if _is_number(annotation))
    validators = {"_no_booleans": _no_booleans(numeric)} if numeric else {}
    with warnings.catch_warnings():
        # an argument named like a BaseModel attribute (json, copy, schema) is fine here
        warnings.simplefilter("ignore")
        try:
            return create_model(
                f"{name}_arguments", __config__=config, __validators__=validators, **fields
            )
        except Exception as exc:
            raise ConfigError(
                f"tool {name!r} has arguments that cannot be described as JSON: {exc}"
            ) from None


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the titles pydantic adds (the model's and each property's); they only add tokens."""
    schema.pop("title", None)
    for spec in schema.get("properties", {}).values():
        spec.pop("title", None)
    return schema


def _run_coroutine(awaitable: Any) -> Any:
    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, wait()).result()
