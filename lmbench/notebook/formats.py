"""``%%predict -f FORMAT``: a response shown as markdown, code, HTML, JSON or text.

A free-form cell (``%%predict`` with no signature) sends its body as the prompt of
``prompt -> response``; ``-f`` says how the answer is drawn, as ``%%ai -f`` does. ``-f code``
also puts the code into a new cell below (the front end's ``set_next_input``).

No format lets MathJax typeset the answer: markdown has its ``$`` escaped, HTML is wrapped in
an element MathJax skips, text and code are preformatted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lmbench.notebook.html import NO_MATH, pre

__all__ = ["FORMATS", "FREEFORM_SIGNATURE", "ResponseView", "escape_markdown_math", "strip_fences"]

FORMATS = ("markdown", "code", "html", "json", "text")
FREEFORM_SIGNATURE = "prompt -> response"

_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(?P<body>.*?)\n?```\s*$", re.S)


def strip_fences(text: str) -> str:
    """The code inside a single fenced block, or the text as it is."""
    match = _FENCE.match(text)
    return match.group("body") if match else text.strip("\n")


def escape_markdown_math(text: str) -> str:
    """``$`` escaped so a Markdown renderer with MathJax shows it as a dollar sign."""
    return re.sub(r"(?<!\\)\$", r"\\$", text)


@dataclass(frozen=True)
class ResponseView:
    """One answer drawn in ``format``; ``prediction`` keeps everything else about the call."""

    text: str
    format: str
    prediction: Any = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        text = self.text
        plain = text
        if self.format == "markdown":
            return {"text/markdown": escape_markdown_math(text), "text/plain": plain}
        if self.format == "html":
            return {"text/html": f'<div class="{NO_MATH}">{text}</div>', "text/plain": plain}
        if self.format == "json":
            try:
                value = json.loads(strip_fences(text))
            except ValueError:
                return {"text/html": self._pre(text), "text/plain": plain}
            return {"application/json": value, "text/plain": json.dumps(value, indent=2)}
        if self.format == "code":
            text = strip_fences(text)
        return {"text/html": self._pre(text), "text/plain": text}

    @staticmethod
    def _pre(text: str) -> str:
        return f'<div class="lmb {NO_MATH}">{pre(text)}</div>'
