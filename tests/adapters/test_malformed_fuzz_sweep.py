"""Answers stitched at random from the pieces models garble (markers, tags, fences, brackets,
quotes, reasoning delimiters, entities, odd numbers and words), for many output types: every
adapter either reads them or raises ``AdapterParseError`` naming a field of the signature, never
another exception. Seeded, so a failure can be replayed."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Literal, Optional

import pydantic
import pytest

from lmbench.adapters import Adapter, ChatAdapter, FallbackAdapter, JSONAdapter, XMLAdapter
from lmbench.errors import AdapterParseError
from lmbench.signatures import InputField, OutputField, Signature


class Inner(pydantic.BaseModel):
    a: int
    b: list[str]


TYPES: list[Any] = [
    int,
    float,
    bool,
    str,
    Literal["a", "b"],
    Optional[int],  # noqa: UP045
    list[int],
    list[list[int]],
    dict[str, int],
    Inner,
    dt.date,
    dt.datetime,
    dt.time,
    tuple[int, str],
    set[str],
    int | str,
]
PIECES = [
    "[[ ## value ## ]]", "[[ ## completed ## ]]", "[[ ## other ## ]]", "<value>", "</value>",
    "<value/>", "{", "}", "[", "]", '"', "'", ":", ",", "```", "```json", "~~~", "\n", "\r\n",
    " ", "<think>", "</think>", "[THINK]", "<|thinking|>", "1", "-", "2.5", "1e400", "NaN",
    "Infinity", "true", "null", "None", "N/A", "yes", "no", "a", "b", "&amp;", "&#x", "&#99999999;",
    "<![CDATA[", "]]>", "\\", "\\u", "\u2212", "\uff11", "2024-04-05", "04/05/2024", "10:30",
    '"value"', "#", "**", "<!--", "-->", "\x00", "\ud800", "\u00e9", "%", "/", "k", "...",
    "\u2014", "<item>", "</item>", "{name}", "{0}", "%s",
]  # fmt: skip
ADAPTERS: list[Adapter] = [ChatAdapter(), JSONAdapter(), XMLAdapter(), FallbackAdapter()]


def _signature(annotation: Any) -> type[Signature]:
    namespace = {
        "__annotations__": {"question": str, "value": annotation},
        "__doc__": "Answer.",
        "question": InputField(),
        "value": OutputField(),
    }
    return type("Fuzzed", (Signature,), namespace)


SIGNATURES = [_signature(t) for t in TYPES]


@pytest.mark.parametrize("seed", range(8))
def test_every_adapter_reads_or_refuses_random_answers(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 16)))
        signature = rng.choice(SIGNATURES)
        for adapter in ADAPTERS:
            try:
                adapter.parse(signature, text)
            except AdapterParseError as exc:
                assert exc.field == "value", f"{adapter.name} on {text!r}: no field named"
                assert exc.raw == text and exc.expected
            except Exception as exc:  # pragma: no cover - what the test exists to catch
                pytest.fail(f"{adapter.name} on {text!r}: {type(exc).__name__}: {exc}")
