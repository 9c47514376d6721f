"""Every exception lmbench raises, in one place.

Hierarchy::

    LMBenchError                    base of everything below
    ├── ConfigError                 bad setting, environment variable, or missing optional extra
    ├── SignatureError              a signature that cannot be built (bad syntax, unknown type)
    ├── InputError                  missing/unexpected/badly typed inputs to a module call
    ├── AdapterParseError           model output that no parsing rule could turn into the fields
    ├── ProviderError               an LM provider failed (carries status, provider, retryable)
    │   ├── AuthenticationError     401/403, or no API key configured
    │   ├── RateLimitError          429 (retryable unless the quota is exhausted)
    │   ├── ProviderTimeout         connect/read timeout or deadline passed
    │   └── ProviderConnectionError connection refused/reset
    ├── BudgetExceeded              a ``budget(...)`` limit would be or was crossed
    ├── ReplayMissError             replay "play" mode has no recording for a request
    ├── RunsFailed                  every attempt of BestOfN/Refine, or too many Parallel items, failed
    │   └── CodeFailed              every program ProgramOfThought wrote failed in the sandbox
    ├── ToolError                   a tool raised or was called with bad arguments
    └── SandboxError                the code sandbox failed to start or broke down
        └── SandboxUnavailable      Deno or Pyodide is missing (also a ConfigError)

Messages name the field or setting, the value, and the fix.
"""

from __future__ import annotations

from typing import Any

from lmbench.display import RichDisplay

__all__ = [
    "AdapterParseError",
    "AuthenticationError",
    "BudgetExceeded",
    "CodeFailed",
    "ConfigError",
    "InputError",
    "LMBenchError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "ReplayMissError",
    "RunsFailed",
    "SandboxError",
    "SandboxUnavailable",
    "SignatureError",
    "ToolError",
]


def describe_error(error: BaseException, *, first_line: bool = False) -> str:
    """``"TypeName: message"``: how an error is named in history, traces, tables and logs
    (any secret in the message taken out: it may be another library's error).

    ``first_line`` keeps only the message's first line (for one-line summaries).
    """
    from lmbench.secrets import redact_text  # secrets imports this module

    message = redact_text(str(error))
    if first_line:
        message = (message.splitlines() or [""])[0]
    return f"{type(error).__name__}: {message}"


def _truncate(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


class LMBenchError(Exception):
    """Base class of every lmbench error."""


class ConfigError(LMBenchError):
    """A setting, environment variable or optional dependency is wrong or missing."""


class SignatureError(LMBenchError):
    """A signature could not be built or changed."""


class InputError(LMBenchError, TypeError):
    """A module was called with missing, unexpected or badly typed inputs."""


class AdapterParseError(RichDisplay, LMBenchError, ValueError):
    """The model's text could not be parsed into the signature's output fields.

    Attributes name everything needed to see what went wrong: the adapter, the field
    (``None`` when the whole structure failed), the expected type, the raw text, and the
    fields parsed before the failure (``parsed``), so nothing already done is lost.
    ``span`` is the (start, end) of the failing region in ``raw`` where known; ``usage`` holds
    the tokens of the LM call whose text failed (set by the adapter that made the call);
    ``refusal`` is set when that text was the model refusing (``reason``, ``note``), which no
    other adapter is asked to read again.
    """

    def __init__(
        self,
        message: str,
        *,
        adapter: str,
        field: str | None = None,
        expected: str | None = None,
        raw: str = "",
        parsed: dict[str, Any] | None = None,
        span: tuple[int, int] | None = None,
    ) -> None:
        self.adapter = adapter
        self.field = field
        self.expected = expected
        self.raw = raw
        self.parsed = dict(parsed or {})
        self.span = span
        self.usage: Any = None
        self.refusal: dict[str, Any] | None = None
        self.reason = message
        parts = [f"{adapter} could not parse"]
        if field:
            parts.append(f" field '{field}'")
        if expected:
            parts.append(f" (expected {expected})")
        parts.append(f": {message}")
        text = "".join(parts)
        text += f"\nraw text: {_truncate(raw)!r}"
        if self.parsed:
            text += f"\nparsed so far: {sorted(self.parsed)}"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only fields: travels from Dask workers
        fields = {
            "adapter": self.adapter,
            "field": self.field,
            "expected": self.expected,
            "raw": self.raw,
            "parsed": self.parsed,
            "span": self.span,
        }
        return _remade, (type(self), self.reason, fields), dict(vars(self))


# Statuses and words of an error showing the server rejected the structured-output request
# itself (llama-cpp-python reports its validation errors as 500s).
_REJECTION_STATUSES = frozenset({400, 422, 500})
_STRUCTURED_WORDS = (
    "response_format",
    "json_schema",
    "json schema",
    "structured output",
    "json_object",
    "json mode",
)


def rejects_structured_output(status: int | None, body: str) -> bool:
    """Whether an error response (``status``, ``body``) is the server refusing the
    structured-output request itself (a schema or JSON mode it does not support), as opposed
    to a failure worth retrying or reporting."""
    if status not in _REJECTION_STATUSES:
        return False
    text = body.lower()
    return any(word in text for word in _STRUCTURED_WORDS)


class ProviderError(LMBenchError):
    """An LM provider call failed.

    ``status`` is the HTTP status (``None`` for transport errors), ``retryable`` tells the
    retry loop whether another attempt may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        request_id: str | None = None,
        body: str | None = None,
        attempts: list[Any] | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.retryable = retryable
        self.request_id = request_id
        self.body = body
        self.attempts = list(attempts or [])
        self.message = message
        head = f"{provider}"
        if status is not None:
            head += f" HTTP {status}"
        super().__init__(f"{head}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only fields: travels from Dask workers
        fields = {"provider": self.provider, "status": self.status, "retryable": self.retryable}
        return _remade, (type(self), self.message, fields), dict(vars(self))

    @property
    def rejects_structured_output(self) -> bool:
        """Whether the server refused the structured-output request itself."""
        return rejects_structured_output(self.status, self.body or self.message)


class AuthenticationError(ProviderError):
    """The provider rejected the credentials, or none were configured."""


class RateLimitError(ProviderError):
    """The provider answered 429."""


class ProviderTimeout(ProviderError):
    """A timeout or the per-call deadline was reached."""


class ProviderConnectionError(ProviderError):
    """The connection could not be made or was cut."""


class BudgetExceeded(LMBenchError):
    """A budget limit would be crossed (before a call) or was crossed (after one).

    ``estimate`` is what the refused call would have held (tokens or USD, per ``kind``), None
    when the limit was crossed after a call."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        spent: float,
        limit: float,
        estimate: float | None = None,
    ) -> None:
        self.kind = kind
        self.spent = spent
        self.limit = limit
        self.estimate = estimate
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only fields: travels from Dask workers
        fields = {
            "kind": self.kind,
            "spent": self.spent,
            "limit": self.limit,
            "estimate": self.estimate,
        }
        return _remade, (type(self), str(self), fields), dict(vars(self))


def _remade(cls: type[Exception], message: str, fields: dict[str, Any]) -> Exception:
    """An error with keyword-only fields, unpickled (see their ``__reduce__``)."""
    return cls(message, **fields)


class ReplayMissError(LMBenchError):
    """Replay is in play mode and no recording matches the request."""


class RunsFailed(LMBenchError):
    """Several runs of a module failed: every attempt of ``BestOfN``/``Refine``, or more items
    of a ``Parallel`` batch than ``max_errors`` allows.

    ``errors`` holds every failure in order; the last one is also the ``__cause__``.
    """

    def __init__(self, message: str, *, errors: list[BaseException]) -> None:
        self.errors = list(errors)
        super().__init__(message)


class CodeFailed(RunsFailed):
    """Every program a code-running module wrote failed in the sandbox.

    ``runs`` holds each attempt (its code and its ``SandboxResult``), so nothing is lost.
    """

    def __init__(self, message: str, *, runs: list[Any]) -> None:
        self.runs = list(runs)
        super().__init__(message, errors=[])


class ToolError(LMBenchError):
    """A tool failed or received bad arguments.

    ``tool`` names the tool; ``argument`` and ``value`` the first bad argument, when that
    was the problem.
    """

    def __init__(
        self,
        message: str,
        *,
        tool: str | None = None,
        argument: str | None = None,
        value: Any = None,
    ) -> None:
        self.tool = tool
        self.argument = argument
        self.value = value
        super().__init__(message)


class SandboxError(LMBenchError):
    """The code sandbox could not start, or its worker broke down outside a run's own errors.

    Errors of the code it runs are not raised: they are in ``SandboxResult.error``.
    """


class SandboxUnavailable(SandboxError, ConfigError):
    """A part the sandbox needs (Deno, Pyodide) is not installed; the message says how to."""
