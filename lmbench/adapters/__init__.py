"""Adapters: signature + inputs -> messages, and the model's text -> typed output fields.

``ChatAdapter`` (``[[ ## field ## ]]`` markers), ``JSONAdapter`` (a JSON object; the schema
goes to LMs with structured output), ``XMLAdapter`` (``<field>`` tags), ``TwoStepAdapter``
(free-form answer, then extraction by a second call) and ``FallbackAdapter`` (tries several
in order, recording each try; ``enabled=False`` keeps only the first). ``default_adapter(lm)``
and ``resolve_adapter("chat" | "json" | "xml" | "twostep" | "fallback")`` pick one.

Every adapter parses tolerantly through one routine, ``coerce`` (its module lists the
repair rules), and reports each repair in ``ParseResult.repairs``; with ``debug_parse``
(``LMBENCH_DEBUG_PARSE=1``) each is logged at INFO on ``lmbench.adapters``.
"""

from lmbench.adapters.base import (
    Adapter,
    AdapterAttempt,
    AdapterResult,
    FieldDelta,
    ParseResult,
    Repair,
)
from lmbench.adapters.chat import ChatAdapter
from lmbench.adapters.coercion import coerce
from lmbench.adapters.fallback import FallbackAdapter
from lmbench.adapters.json_adapter import JSONAdapter
from lmbench.adapters.resolve import default_adapter, resolve_adapter
from lmbench.adapters.two_step import TwoStepAdapter
from lmbench.adapters.xml_adapter import XMLAdapter

__all__ = [
    "Adapter",
    "AdapterAttempt",
    "AdapterResult",
    "ChatAdapter",
    "FallbackAdapter",
    "FieldDelta",
    "JSONAdapter",
    "ParseResult",
    "Repair",
    "TwoStepAdapter",
    "XMLAdapter",
    "coerce",
    "default_adapter",
    "resolve_adapter",
]
