"""``FallbackAdapter``: try adapters in order until one parses the answer, and say so.

Each adapter makes its own LM call. An adapter is left behind when its answer cannot be
parsed (``AdapterParseError``) or when the provider rejects its structured-output request
(HTTP 400/422 to a request with a response schema). Every try is kept in
``AdapterResult.attempts`` (adapter, error, tokens), the LM call of a later adapter records
which adapter it fell back from, and each fallback is logged as a warning on the
``lmbench`` logger. ``FallbackAdapter(..., enabled=False)`` uses the first adapter only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from lmbench.adapters.base import Adapter, Demos, Inputs, RunArgs, fallback_from, restated
from lmbench.adapters.chat import ChatAdapter
from lmbench.adapters.json_adapter import JSONAdapter
from lmbench.adapters.results import AdapterAttempt, AdapterResult, ParseResult, Repair
from lmbench.adapters.steps import Pull, Steps
from lmbench.errors import AdapterParseError, ConfigError, ProviderError, describe_error
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message, Usage
from lmbench.logs import get_logger
from lmbench.signatures.signature import Signature

__all__ = ["FallbackAdapter"]

_log = get_logger("lmbench")

T = TypeVar("T")

# One try with one adapter: its steps, given the failed tries before it.
_Attempt = Callable[[Adapter, RunArgs, list[AdapterAttempt]], Steps[T]]


class FallbackAdapter(Adapter):
    """Adapters tried in order (default: ``ChatAdapter`` then ``JSONAdapter``)."""

    name = "FallbackAdapter"

    def __init__(self, adapters: Sequence[Adapter] | None = None, *, enabled: bool = True) -> None:
        chain = list(adapters) if adapters is not None else [ChatAdapter(), JSONAdapter()]
        if not chain:
            raise ConfigError(
                "FallbackAdapter needs at least one adapter, e.g. [ChatAdapter(), JSONAdapter()]"
            )
        self.adapters = chain
        self.enabled = enabled

    @property
    def chain(self) -> list[Adapter]:
        """The adapters that will be tried: all of them, or only the first when disabled."""
        return self.adapters if self.enabled else self.adapters[:1]

    # -- without an LM: the first adapter's prompt; parsing tries each in turn ----------------------

    def format(self, signature: Signature, inputs: Inputs, demos: Demos = ()) -> list[Message]:
        return self.adapters[0].format(signature, inputs, demos)

    def render(self, signature: Signature, inputs: Inputs, demos: Demos = ()) -> str:
        return self.adapters[0].render(signature, inputs, demos)

    def build_request(
        self, lm: LM, signature: Signature, messages: list[Message], config: Mapping[str, Any]
    ) -> LMRequest:
        return self.adapters[0].build_request(lm, signature, messages, config)

    def uses_structured_output(self, lm: LM) -> bool:
        return self.adapters[0].uses_structured_output(lm)

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        return self.adapters[0].partial_fields(signature, text)

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        failures: list[str] = []
        last: AdapterParseError | None = None
        for adapter in self.chain:
            try:
                result = adapter.parse_with_repairs(signature, text)
            except AdapterParseError as exc:
                failures.append(f"{adapter.name}: {describe_error(exc, first_line=True)}")
                last = exc
                continue
            if failures:
                detail = f"parsed by {adapter.name} after: " + "; ".join(failures)
                result.repairs.insert(0, Repair("fallback_parse", None, detail))
            return result
        assert last is not None
        raise self._exhausted(failures, last)

    # -- with an LM: one call per adapter tried -----------------------------------------------

    def _give_up(
        self,
        chain: list[Adapter],
        position: int,
        lm: LM,
        exc: Exception,
        attempts: list[AdapterAttempt],
    ) -> bool:
        """Record a failed try; True when the error is one to raise rather than fall back from."""
        adapter = chain[position]
        if getattr(exc, "refusal", None) is not None:  # another adapter would be refused too
            return True
        if isinstance(exc, ProviderError):
            if not (exc.rejects_structured_output and adapter.uses_structured_output(lm)):
                return True
            usage = Usage()
        else:
            usage = getattr(exc, "usage", None) or Usage()
        attempts.append(AdapterAttempt(adapter.name, describe_error(exc, first_line=True), usage))
        if position + 1 < len(chain):
            _log.warning(
                "%s failed (%s); falling back to %s",
                adapter.name,
                describe_error(exc, first_line=True),
                chain[position + 1].name,
            )
        return False

    def _exhausted(
        self, failures: list[str], last: AdapterParseError, usage: Usage | None = None
    ) -> AdapterParseError:
        """One error for the whole chain: every failure listed, the last one's details kept,
        and the tokens of every try."""
        reason = "no adapter could parse the answer: " + "; ".join(failures)
        return restated(last, reason, self.name, usage if usage is not None else last.usage)

    def _final_error(self, attempts: list[AdapterAttempt], last: Exception) -> Exception:
        if isinstance(last, AdapterParseError):
            failures = [f"{a.adapter}: {a.error}" for a in attempts]
            return self._exhausted(failures, last, sum((a.usage for a in attempts), Usage()))
        return last

    def _steps(self, args: RunArgs) -> Steps[AdapterResult]:
        return (yield from self._tries(args, _run_with))

    def _stream_steps(self, args: RunArgs) -> Steps[None]:
        """Stream with each adapter in turn; deltas of a failed try may precede the next one's."""
        yield from self._tries(args, _stream_with)

    def _tries(self, args: RunArgs, attempt: _Attempt[T]) -> Steps[T]:
        """``attempt`` with each adapter of the chain until one succeeds."""
        attempts: list[AdapterAttempt] = []
        last: Exception | None = None
        outer = fallback_from.get()  # restored by value: a stream may resume in another context
        chain = self.chain
        for position, adapter in enumerate(chain):
            try:
                fallback_from.set(attempts[-1].adapter if attempts else outer)
                return (yield from attempt(adapter, args, attempts))
            except (AdapterParseError, ProviderError) as exc:
                if self._give_up(chain, position, args.lm, exc, attempts):
                    raise
                last = exc
            finally:
                fallback_from.set(outer)
        assert last is not None
        raise self._final_error(attempts, last) from last

    def __repr__(self) -> str:
        names = ", ".join(repr(a) for a in self.adapters)
        disabled = ", enabled=False" if not self.enabled else ""
        return f"FallbackAdapter([{names}]{disabled})"


def _run_with(
    adapter: Adapter, args: RunArgs, attempts: list[AdapterAttempt]
) -> Steps[AdapterResult]:
    """A try by ``adapter``'s own steps (driven as this run is); the failed tries go before its own."""
    result = yield from adapter._steps(args)
    return _after(result, attempts)


def _stream_with(adapter: Adapter, args: RunArgs, attempts: list[AdapterAttempt]) -> Steps[None]:
    """A try by ``adapter.stream`` (or ``astream``), its events passed on."""
    events = Pull(adapter.stream, adapter.astream, *args)
    while (event := (yield events)) is not None:
        yield _after(event, attempts) if isinstance(event, AdapterResult) else event


def _after(result: AdapterResult, attempts: list[AdapterAttempt]) -> AdapterResult:
    result.attempts = [*attempts, *result.attempts]
    return result
