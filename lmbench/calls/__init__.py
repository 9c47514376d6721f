"""The call layer: the path every model call takes, and the call tree around it.

- ``tree``: module calls (``module_call``), the context variable linking nested calls,
  ``emit`` and the callbacks in force;
- ``model_call``: ``ModelCall``, one model call of any kind through one policy, written once
  for sync, async and streaming: replay -> cache -> budget (reserve) -> send -> price ->
  record -> spans;
- ``kind``: ``CallKind``, what a kind of call (LM, embedding, ...) brings to that policy;
- ``lm_call``: the LM kind and ``lm_call``, where adapters call a model;
- ``budget``: spending limits, reserved before a call and settled after;
- ``callbacks``: the ``Callback`` base class and its dispatch.

``lmbench.observe`` only records and reads what these calls leave (history entries,
collectors, costs, traces); ``lmbench.lm`` stores responses (cache, replay files).
"""

from lmbench.calls.budget import Budget, active_budgets, budget, session_budget, set_session_budget
from lmbench.calls.callbacks import EVENTS, Callback, CallbackEvent
from lmbench.calls.kind import CallKind
from lmbench.calls.lm_call import LMCall, LMKind, lm_call
from lmbench.calls.model_call import CacheState, ModelCall
from lmbench.calls.tree import ModuleCall, active_callbacks, current_module_call, emit, module_call

__all__ = [
    "EVENTS",
    "Budget",
    "CacheState",
    "CallKind",
    "Callback",
    "CallbackEvent",
    "LMCall",
    "LMKind",
    "ModelCall",
    "ModuleCall",
    "active_budgets",
    "active_callbacks",
    "budget",
    "current_module_call",
    "emit",
    "lm_call",
    "module_call",
    "session_budget",
    "set_session_budget",
]
