"""What every wire format provides, and the pieces they share.

A wire format turns an ``LMRequest`` into an HTTP body for one API (``build``), and that
API's answers back into an ``LMResponse`` (``parse`` for a whole body, ``stream_parser``
for events). It knows nothing of base URLs, keys or retries (see ``provider`` and
``transport``).

``Draft`` collects a response piece by piece (texts per choice, reasoning, tool calls whose
arguments may arrive in fragments, usage, finish reason) and builds the ``LMResponse``; both
the whole-body parsers and the stream parsers fill one, so the two paths agree.
``DraftStream`` is the stream parsers' common part.

OpenAI, Cohere and Ollama share the shape of tool declarations and tool calls
(``{"type": "function", "function": {...}}``): ``function_tools``, ``function_calls``,
``add_function_calls`` and ``extend_function_call`` write and read it for all three.

A response with no answer in it at all (no choice, candidate or message: seen from gateways and
overloaded servers as a 200 with ``"choices": []``) is a ``WireError`` (``NO_CHOICES``), never
an empty text: an empty text would be parsed, fail, and make a fallback adapter pay for a second
request. Parsers mark each choice they see with ``Draft.saw_answer`` (adding text or a tool call
marks it too).

``finish_reason`` uses one vocabulary across providers: ``stop``, ``length``, ``tool_calls``,
``content_filter`` (the provider's own word is kept in ``metadata["native_finish_reason"]``
when it differs).

Filters and refusals are treated alike by every format: an answer that is empty because a
content filter or a refusal stopped it (Gemini's ``promptFeedback.blockReason`` or a
``SAFETY`` finish, Anthropic's ``stop_reason: refusal``, OpenAI's ``content_filter`` finish)
is a ``WireError`` naming the filter and what to do (``FILTERED``), never an empty text that
an adapter would fail to parse and a fallback would pay to ask again. An answer with text
(OpenAI's ``refusal`` field, a refusal or filter that stopped a started answer) is returned as
it is, marked with ``metadata["refusal"]`` (``reason``, ``note``).
"""

from __future__ import annotations

import json
import math
import mimetypes
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from lmbench.errors import InputError
from lmbench.lm.types import (
    ContentPart,
    LMRequest,
    LMResponse,
    Message,
    StreamChunk,
    ToolCall,
    ToolSpec,
    Usage,
)
from lmbench.providers.streams import StreamFormat

T = TypeVar("T")

__all__ = [
    "FILTERED",
    "NO_CHOICES",
    "Draft",
    "DraftStream",
    "StreamParser",
    "WireError",
    "WireFormat",
    "WireRequest",
    "add_function_calls",
    "as_data_url",
    "dump_arguments",
    "error_from",
    "expect_object",
    "extend_function_call",
    "function_calls",
    "function_tools",
    "mapping",
    "media_source",
    "merge_extra",
    "merge_turns",
    "new_call_id",
    "require_single_choice",
    "sampling_fields",
    "shape_checked",
    "token_count",
    "tool_call_names",
    "unsupported_part",
]


NO_CHOICES = (
    "the response had no choices (no answer at all: nothing to parse, and no reason to pay "
    "for a fallback request); the server or a gateway in front of it returned an empty result"
)


FILTERED = (
    "{note}: no answer came back, so there is nothing to parse, and the request is not sent "
    "again (it would be refused again). {fix}"
)
_FILTER_FIX = "Rephrase the input, or check it against the provider's content policy."


class WireError(Exception):
    """An error the provider reported inside a successful HTTP response (body or stream), or
    a response that is not of the API's shape (see ``shape_checked``)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# What reading a value of the wrong shape raises (a string where the API has an object, a
# null in a list, text where a number goes): the parsers read the API's shape directly.
_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError)


def shape_checked(api: str, parse: Callable[..., T], *args: Any) -> T:
    """``parse(*args)``, with a failure to read a body or event of the wrong shape turned into
    one ``WireError`` naming the API (invalid JSON text, ``json.JSONDecodeError``, passes
    through: the caller reports it as such)."""
    try:
        return parse(*args)
    except (WireError, json.JSONDecodeError):
        raise
    except _SHAPE_ERRORS as exc:
        raise WireError(
            f"the response does not have the shape of the {api} API ({type(exc).__name__}: "
            f"{exc}); check that base_url points at a server speaking this API, else the "
            "server sent a damaged answer"
        ) from None


def token_count(value: Any) -> int:
    """A token count as an API reports it: a whole number of zero or more (given as a number
    or as digits). Anything else (negative, text, null, another object) counts as 0, so a
    damaged usage report never makes a negative cost or breaks the response it came with."""
    if type(value) is int:  # the usual case, first
        return value if value > 0 else 0
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value >= 0 else 0
    if isinstance(value, str):
        try:
            return token_count(float(value.strip()))
        except ValueError:
            return 0
    return 0


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for optional sub-objects such
    as usage details, which a damaged answer may send as anything)."""
    if type(value) is dict or isinstance(value, Mapping):
        return value  # type: ignore[no-any-return]
    return {}


@dataclass(frozen=True)
class WireRequest:
    """The path (relative to the base URL, query included) and JSON body of one request.

    ``ignored`` names request parameters this API has no field for (kept in metadata).
    """

    path: str
    body: dict[str, Any]
    ignored: tuple[str, ...] = ()


class StreamParser(Protocol):
    """Turns one stream's events into text chunks, then the assembled response."""

    @property
    def finished(self) -> bool:
        """Whether the stream's end (end marker or finish reason) has been seen."""
        ...

    def feed(self, event: str, data: str) -> list[StreamChunk]: ...

    def result(self) -> LMResponse: ...


class WireFormat(Protocol):
    """One API's request and response shapes."""

    name: str
    stream_format: StreamFormat
    #: How to ask for structured output, in order of preference: when the server rejects
    #: one, the next is tried (recorded in ``metadata["structured_output"]``).
    structured_modes: tuple[str, ...]

    def build(
        self, request: LMRequest, model: str, *, stream: bool, structured_mode: str | None
    ) -> WireRequest: ...

    def parse(self, data: Any) -> LMResponse: ...

    def stream_parser(self) -> StreamParser: ...


def new_call_id() -> str:
    """An id for a tool call the provider sent without one (so tool results can refer to it)."""
    return f"call_{uuid.uuid4().hex[:24]}"


def _parse_arguments(text: str) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments as a dict, and why they could not be read as sent (None when they
    could): broken or cut-off JSON is repaired as well as it can be, but only as a best effort
    that says so. An object sent as a JSON string holding it (encoded twice) is read."""
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except ValueError:
        import json_repair

        value = json_repair.loads(text)
        shown = text if len(text) <= 80 else text[:77] + "..."
        return (value if isinstance(value, dict) else {}), f"not valid JSON: {shown!r}"
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except ValueError:
            inner = None
        if isinstance(inner, dict):
            return inner, None
    if isinstance(value, dict):
        return value, None
    return {}, f"a JSON {type(value).__name__}, not an object of arguments"


def dump_arguments(arguments: Mapping[str, Any]) -> str:
    return json.dumps(dict(arguments), ensure_ascii=False, separators=(",", ":"))


@dataclass
class _DraftCall:
    name: str
    id: str | None
    fragments: list[str] = field(default_factory=list)
    arguments: dict[str, Any] | None = None
    provider_data: dict[str, Any] | None = None


@dataclass
class Draft:
    """A response being assembled; ``build`` turns it into an ``LMResponse``."""

    finish_map: Mapping[str, str]
    texts: dict[int, list[str]] = field(default_factory=dict)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[Hashable, _DraftCall] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    native_finish: str | None = None
    model: str = ""
    response_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    answered: bool = False
    refusals: list[str] = field(default_factory=list)
    #: What a filter or refusal did, in the provider's terms, and what to do about it (set by
    #: formats that know more than the finish reason); a note makes the finish "content_filter".
    filter_note: str | None = None
    filter_fix: str = _FILTER_FIX

    def saw_answer(self) -> None:
        """Mark that the response holds a choice (possibly empty), so it is not ``NO_CHOICES``."""
        self.answered = True

    def add_refusal(self, text: str | None) -> StreamChunk | None:
        """The model's refusal in a field of its own (OpenAI's ``refusal``): its words are
        the answer's text, marked as a refusal."""
        if text:
            self.refusals.append(text)
        return self.add_text(text)

    def add_text(self, text: str | None, index: int = 0) -> StreamChunk | None:
        """Append text to choice ``index``; the chunk to stream, if there was any text."""
        self.answered = True
        parts = self.texts.setdefault(index, [])
        if not text:
            return None
        parts.append(text)
        return StreamChunk(text=text, index=index)

    def add_reasoning(self, text: str | None) -> None:
        if text:
            self.reasoning.append(text)

    def start_call(
        self,
        key: Hashable,
        *,
        name: str,
        id: str | None = None,
        arguments: Mapping[str, Any] | str | None = None,
        provider_data: dict[str, Any] | None = None,
    ) -> None:
        self.answered = True
        call = _DraftCall(name=name, id=id or None, provider_data=provider_data or None)
        if isinstance(arguments, Mapping):
            call.arguments = dict(arguments)
        elif arguments:
            call.fragments.append(arguments)
        self.calls[key] = call

    def add_call(
        self,
        *,
        name: str,
        id: str | None = None,
        arguments: Mapping[str, Any] | str | None = None,
        provider_data: dict[str, Any] | None = None,
    ) -> None:
        """Start the next call, for APIs that send each call whole (keyed by arrival order)."""
        self.start_call(
            len(self.calls), name=name, id=id, arguments=arguments, provider_data=provider_data
        )

    def extend_call(
        self, key: Hashable, fragment: str | None, *, name: str | None = None, id: str | None = None
    ) -> None:
        """Add an arguments fragment (and late-arriving name/id) to a started call."""
        call = self.calls.get(key)
        if call is None:
            self.start_call(key, name=name or "", id=id, arguments=fragment)
            return
        if name and not call.name:
            call.name = name
        if id and not call.id:
            call.id = id
        if fragment:
            call.fragments.append(fragment)

    def note_usage(self, raw: Any, convert: Callable[[Mapping[str, Any]], Usage]) -> None:
        """Usage from the provider's own usage object, which is kept in ``metadata["usage"]``
        (an object of the wrong kind is kept there and counts nothing)."""
        if raw:
            self.metadata["usage"] = raw
            if isinstance(raw, Mapping):
                self.usage = convert(raw)

    def build(self) -> LMResponse:
        """The response; ``WireError(NO_CHOICES)`` when no choice was seen at all."""
        if not self.answered:
            raise WireError(NO_CHOICES)
        tool_calls: list[ToolCall] = []
        repaired: list[str] = []
        for call in self.calls.values():
            arguments, error = call.arguments, None
            if arguments is None:
                arguments, error = _parse_arguments("".join(call.fragments))
                if error is not None:
                    repaired.append(call.name)
            tool_calls.append(
                ToolCall(call.name, arguments, call.id or new_call_id(), call.provider_data, error)
            )
        metadata = dict(self.metadata)
        if repaired:
            metadata["repaired_tool_arguments"] = repaired
        if self.reasoning:
            metadata["reasoning"] = "".join(self.reasoning)
        if self.response_id:
            metadata["response_id"] = self.response_id
        finish = self._finish(bool(tool_calls))
        if self.native_finish is not None and finish != self.native_finish:
            metadata["native_finish_reason"] = self.native_finish
        count = max(self.texts) + 1 if self.texts else 1
        texts = ["".join(self.texts.get(i, ())) for i in range(count)]
        if finish == "content_filter" or self.refusals:
            note = self.filter_note or (
                "the model refused (its refusal field)"
                if self.refusals and finish != "content_filter"
                else f"a content filter stopped the answer (finish reason {self.native_finish!r})"
            )
            if not texts[0].strip() and not tool_calls:
                raise WireError(FILTERED.format(note=note, fix=self.filter_fix))
            metadata["refusal"] = {"reason": self.native_finish or "refusal", "note": note}
        return LMResponse(
            texts=texts,
            model=self.model,
            tool_calls=tool_calls,
            usage=self.usage,
            finish_reason=finish,
            metadata=metadata,
        )

    def _finish(self, has_tool_calls: bool) -> str | None:
        if self.filter_note is not None:
            return "content_filter"
        if self.native_finish is None:
            return None
        finish = self.finish_map.get(self.native_finish, self.native_finish.lower())
        if has_tool_calls and finish == "stop":
            return "tool_calls"  # APIs without a tool-call finish reason
        return finish


class DraftStream:
    """What the stream parsers share: events fill ``draft``, built into the response at the end.

    A stream is finished once its end marker was seen (``_done``) or a finish reason arrived.
    Subclasses set ``finish_map`` and implement ``feed``.
    """

    finish_map: ClassVar[Mapping[str, str]]

    def __init__(self) -> None:
        self.draft = Draft(self.finish_map)
        self._done = False

    @property
    def finished(self) -> bool:
        return self._done or self.draft.native_finish is not None

    def result(self) -> LMResponse:
        return self.draft.build()


def expect_object(data: Any) -> dict[str, Any]:
    """``data`` when it is a JSON object; otherwise the ``WireError`` saying what came instead."""
    if not isinstance(data, dict):
        raise WireError(f"expected a JSON object, got {type(data).__name__}")
    return data


def error_from(error: Any) -> WireError:
    """The ``WireError`` for an ``error`` member of a body: its message, and its numeric code as
    the status (``{"message": ..., "code": 429}``), or the value itself as the message."""
    if not isinstance(error, dict):
        return WireError(str(error))
    code = error.get("code")
    return WireError(
        str(error.get("message") or error), status=code if isinstance(code, int) else None
    )


def sampling_fields(
    request: LMRequest,
    *,
    max_tokens: str | None,
    stop: str,
    n: str | None = None,
    seed: str | None = "seed",
) -> dict[str, Any]:
    """The request's sampling settings that are set, under this API's field names.

    A name given as None leaves that setting out (the API has no such field, or the caller
    sends it itself); ``n`` is sent only when it is not 1.
    """
    fields: dict[str, Any] = {}
    if request.temperature is not None:
        fields["temperature"] = request.temperature
    if max_tokens is not None and request.max_tokens is not None:
        fields[max_tokens] = request.max_tokens
    if n is not None and request.n != 1:
        fields[n] = request.n
    if request.stop:
        fields[stop] = list(request.stop)
    if seed is not None and request.seed is not None:
        fields[seed] = request.seed
    return fields


def function_tools(tools: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """Tool declarations in the OpenAI shape (also Cohere's and Ollama's)."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def function_calls(calls: Iterable[ToolCall]) -> list[dict[str, Any]]:
    """An assistant message's tool calls in the OpenAI shape (also Cohere's), arguments as JSON."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": dump_arguments(call.arguments)},
        }
        for call in calls
    ]


def add_function_calls(draft: Draft, calls: Iterable[dict[str, Any]] | None) -> None:
    """Whole tool calls of a response body (``{"id", "function": {"name", "arguments"}}``)."""
    for call in calls or ():
        function = call.get("function") or {}
        draft.add_call(
            name=function.get("name", ""), id=call.get("id"), arguments=function.get("arguments")
        )


def extend_function_call(draft: Draft, key: Hashable, call: dict[str, Any]) -> None:
    """One streamed piece of tool call ``key``: an arguments fragment, with the name and id
    when this piece carries them."""
    function = call.get("function") or {}
    draft.extend_call(key, function.get("arguments"), name=function.get("name"), id=call.get("id"))


def merge_turns(
    turns: Iterable[tuple[str, list[dict[str, Any]]]], key: str
) -> list[dict[str, Any]]:
    """``{"role": role, key: items}`` per turn, consecutive turns of one role joined into one,
    for APIs that want the roles to alternate."""
    out: list[dict[str, Any]] = []
    for role, items in turns:
        if out and out[-1]["role"] == role:
            out[-1][key].extend(items)
        else:
            out.append({"role": role, key: items})
    return out


def merge_extra(body: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``LMRequest.extra`` over the built body; dict values merge one level deep."""
    for key, value in extra.items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            body[key] = {**current, **value}
        else:
            body[key] = value
    return body


def require_single_choice(request: LMRequest, api: str) -> None:
    if request.n != 1:
        raise InputError(
            f"n={request.n}: the {api} API returns one choice per request "
            "(capabilities.multiple_choices is False); make n separate calls instead"
        )


def media_source(part: ContentPart) -> tuple[str, str, str]:
    """``("url", url, media_type)`` or ``("base64", data, media_type)`` for a media part.

    A ``data:`` URL counts as base64 data; the media type is guessed from the URL's
    extension when the part does not give one.
    """
    url = part.get("url")
    if url:
        if url.startswith("data:") and ";base64," in url:
            header, data = url[5:].split(";base64,", 1)
            return "base64", data, header or part.get("media_type") or "application/octet-stream"
        guessed = mimetypes.guess_type(url.split("?", 1)[0])[0]
        return "url", url, part.get("media_type") or guessed or ""
    data = part.get("data")
    if not data:
        raise InputError(
            f"a {part.get('type')!r} content part needs 'url' or 'data': {sorted(part)}"
        )
    return "base64", data, part.get("media_type") or "application/octet-stream"


def as_data_url(part: ContentPart) -> str:
    """The part as a URL: its own, or a ``data:`` URL of its base64 data."""
    kind, value, media_type = media_source(part)
    return value if kind == "url" else f"data:{media_type};base64,{value}"


def unsupported_part(part: ContentPart, api: str, supported: str) -> InputError:
    return InputError(
        f"content part of type {part.get('type')!r} is not supported by the {api} API "
        f"(supported here: {supported}); convert it to text or use a provider that accepts it"
    )


def tool_call_names(messages: tuple[Message, ...]) -> dict[str, str]:
    """Tool-call id -> function name, for APIs whose tool results name the function."""
    return {c.id: c.name for m in messages for c in m.tool_calls if c.id}
