"""Adapters: signature + inputs -> messages, and the model's text -> typed output fields.

``ChatAdapter`` (``[[ ## field ## ]]`` markers), ``JSONAdapter`` (a JSON object; the schema
goes to LMs with structured output), ``XMLAdapter`` (``<field>`` tags), ``TwoStepAdapter``
(free-form answer, then extraction) and ``FallbackAdapter`` (tries several, recording each
try). All parse tolerantly through one routine, ``coerce``, and report every repair.
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
