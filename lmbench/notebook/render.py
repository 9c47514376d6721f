"""Which renderer draws which lmbench type, for the display formatters and ``_repr_*_`` methods.

Types are named by module and class so nothing is imported to register them: IPython's
``for_type_by_name`` binds a renderer the first time an object of that type is displayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from lmbench.notebook.render_errors import parse_error_html, parse_error_text
from lmbench.notebook.render_history import entries_html, entries_text, entry_html, entry_text
from lmbench.notebook.render_media import (
    citations_html,
    citations_text,
    media_html,
    media_text,
)
from lmbench.notebook.render_prediction import prediction_html, prediction_text
from lmbench.notebook.render_retrieval import (
    embedder_html,
    embedder_text,
    hits_html,
    hits_text,
    index_html,
    index_text,
)
from lmbench.notebook.render_sandbox import result_html, result_text, sandbox_html, sandbox_text
from lmbench.notebook.render_signature import (
    example_html,
    example_text,
    signature_html,
    signature_text,
)
from lmbench.notebook.render_trace import trace_html, trace_text

__all__ = ["RENDERERS", "Renderer", "html_for", "text_for"]


class Renderer(NamedTuple):
    module: str
    name: str
    html: Callable[[Any], str]
    text: Callable[[Any], str]


def _history_html(history: Any) -> str:
    return entries_html(history.entries())


def _history_text(history: Any) -> str:
    return entries_text(history.entries())


RENDERERS: tuple[Renderer, ...] = (
    Renderer("lmbench.primitives.prediction", "Prediction", prediction_html, prediction_text),
    Renderer("lmbench.signatures.signature", "Signature", signature_html, signature_text),
    Renderer("lmbench.primitives.example", "Example", example_html, example_text),
    Renderer("lmbench.observe.entry", "HistoryEntry", entry_html, entry_text),
    Renderer("lmbench.observe.history", "CallHistory", _history_html, _history_text),
    Renderer("lmbench.calls.tree", "ModuleCall", trace_html, trace_text),
    Renderer("lmbench.errors", "AdapterParseError", parse_error_html, parse_error_text),
    Renderer("lmbench.retrieval.hits", "Hits", hits_html, hits_text),
    Renderer("lmbench.media", "Image", media_html, media_text),
    Renderer("lmbench.media", "Audio", media_html, media_text),
    Renderer("lmbench.media", "Document", media_html, media_text),
    Renderer("lmbench.multimodal.citations", "Citations", citations_html, citations_text),
    Renderer("lmbench.retrieval.index", "VectorIndex", index_html, index_text),
    Renderer("lmbench.retrieval.embedder", "Embedder", embedder_html, embedder_text),
    Renderer("lmbench.sandbox.sandbox", "SandboxResult", result_html, result_text),
    Renderer("lmbench.sandbox.sandbox", "Sandbox", sandbox_html, sandbox_text),
)

_BY_NAME = {(r.module, r.name): r for r in RENDERERS}


def _renderer(obj: Any) -> Renderer | None:
    for cls in type(obj).__mro__:
        found = _BY_NAME.get((cls.__module__, cls.__qualname__))
        if found is not None:
            return found
    return None


def html_for(obj: Any) -> str | None:
    """Static HTML for ``obj``, or None when lmbench has no renderer for its type."""
    found = _renderer(obj)
    return None if found is None else found.html(obj)


def text_for(obj: Any) -> str | None:
    """Plain text for ``obj``, or None when lmbench has no renderer for its type."""
    found = _renderer(obj)
    return None if found is None else found.text(obj)
