"""Observability: call tree, history entries, collectors, cost, budgets, cache, callbacks."""

from lmbench.observe.calls import LMCall, ModuleCall, current_module_call, lm_call, module_call

__all__ = ["LMCall", "ModuleCall", "current_module_call", "lm_call", "module_call"]
