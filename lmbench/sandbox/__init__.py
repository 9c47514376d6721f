"""The code sandbox: Python in Pyodide (WebAssembly) under Deno, with no permissions.

``Sandbox`` runs code; ``python -m lmbench.sandbox install`` installs Pyodide (see ``install``).
"""

from lmbench.sandbox.sandbox import Sandbox, SandboxResult, SandboxToolCall

__all__ = ["Sandbox", "SandboxResult", "SandboxToolCall"]
