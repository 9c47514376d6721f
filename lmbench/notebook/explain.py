"""``%lmbench explain``: the last error of the session, explained in plain words by the model.

The error is the one IPython kept (``sys.last_value``: any failed cell, a magic's included);
for a magic's error the text of its card is sent, not the wrapper. The configured model
writes the explanation, under a live status line.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from lmbench.notebook.html import details, esc, pre
from lmbench.notebook.models import configured_model_name
from lmbench.notebook.render_session import Panel, message_panel
from lmbench.secrets import redact_text

__all__ = ["EXPLAIN_INSTRUCTIONS", "error_text", "explain_last_error"]

EXPLAIN_INSTRUCTIONS = (
    "Explain this error from a Jupyter notebook to a data scientist in plain words: what went "
    "wrong and how to fix it, in two or three short sentences."
)


def error_text(error: BaseException) -> str:
    """What the model is shown: a magic's card as text, else the exception's last line;
    never a secret (the text goes to a model, maybe a remote one, and into the panel)."""
    from lmbench.notebook.problems import CellProblem
    from lmbench.notebook.render import text_for

    if isinstance(error, CellProblem):
        found = text_for(error.view)
        text = found if found is not None else str(error.view)
    else:
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return redact_text(text)


def _last_error() -> BaseException | None:
    return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)


def explain_last_error() -> Any:
    """A panel explaining the last error; None when it was drawn over the status line."""
    from IPython import get_ipython

    from lmbench.modules import Predict
    from lmbench.notebook.live_cell import SHOWN, run_in_cell
    from lmbench.signatures import Signature

    error = _last_error()
    if error is None:
        return message_panel("lmbench explain", "no error in this session yet: nothing to explain")
    text = error_text(error)
    signature = Signature("error -> explanation").with_instructions(EXPLAIN_INSTRUCTIONS)
    program = Predict(signature)

    def panel(prediction: Any) -> Panel:
        explanation = str(prediction.explanation).strip()
        body = f"<div>{esc(explanation)}</div>" + details("The error", pre(text))
        return Panel("lmbench explain", body, f"{explanation}\n\nThe error:\n{text}")

    shell = get_ipython()
    outcome = run_in_cell(
        shell, "%lmbench", configured_model_name(), lambda _status: program(error=text), view=panel
    )
    return None if outcome is SHOWN else panel(outcome)
