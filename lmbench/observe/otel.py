"""OpenTelemetry spans for module and LM calls, when the application has set up tracing.

Nothing is imported here: spans are made only when ``opentelemetry.trace`` is already loaded
and a real tracer provider is installed (``trace.set_tracer_provider(...)``), so programs that
do not trace pay one dictionary lookup a call. LM spans carry the GenAI semantic-convention
attributes (``gen_ai.request.model``, ``gen_ai.usage.input_tokens``...).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["end_span", "start_span"]

_tracers: dict[int, Any] = {}


def _tracer() -> Any:
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    tracer = _tracers.get(id(provider))
    if tracer is None:
        tracer = _tracers[id(provider)] = provider.get_tracer("lmbench")
    return tracer


def start_span(parent: Any, describe: Callable[[], tuple[str, dict[str, Any]]]) -> Any:
    """A span started under ``parent`` (a span or None), or None when nobody traces.

    ``describe()`` gives the span's name and attributes; it is called only when tracing, so
    calls that are not traced build neither.
    """
    tracer = _tracer()
    if tracer is None:
        return None
    name, attributes = describe()
    trace = sys.modules["opentelemetry.trace"]
    context = trace.set_span_in_context(parent) if parent is not None else None
    clean = {k: v for k, v in attributes.items() if v is not None}
    return tracer.start_span(name, context=context, attributes=clean)


def end_span(span: Any, attributes: dict[str, Any], error: str | None) -> None:
    if span is None:
        return
    for key, value in attributes.items():
        if value is not None:
            span.set_attribute(key, value)
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, error))
    span.end()
