"""%lmbench: look at and change the session from a cell.

%lmbench config                 model, adapter, cache, history backend, replay, budget
%lmbench models                 known models per provider, which API keys are set, aliases
%lmbench alias NAME MODEL       a short name for -m (kept for later sessions); NAME --remove
%lmbench history [n] [--browse] the last n calls as a table (or the browser widget)
%lmbench last                   the last prediction in full
%lmbench explain                the last error of the session, explained by the model
%lmbench cost                   cost rolled up by model and module
%lmbench cache stats|clear
%lmbench budget 0.50 [--tokens N] | off
%lmbench replay record|play PATH | off
%lmbench eval [RUN_ID | runs]   the last evaluation run (or that run), or every run, from history
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from lmbench.money import format_usd
from lmbench.notebook.cell_inputs import CellError
from lmbench.notebook.html import pre
from lmbench.notebook.problems import problem_from
from lmbench.notebook.render_session import (
    Panel,
    cache_panel,
    config_panel,
    cost_panel,
    message_panel,
    models_panel,
)
from lmbench.notebook.state import LastPrediction

__all__ = ["COMMANDS", "run_lmbench"]

MAGIC = "%lmbench"


def _usage(command: str, args: list[str]) -> CellError:
    return CellError(f"usage: {MAGIC} {command} {' '.join(args)}", line=0)


def _config(args: list[str]) -> Any:
    return config_panel()


def _models(args: list[str]) -> Any:
    return models_panel()


def _history(args: list[str]) -> Any:
    from lmbench.notebook.render_history import EntriesView
    from lmbench.observe.history import history

    browse = "--browse" in args
    rest = [a for a in args if a != "--browse"]
    if len(rest) > 1 or (rest and not rest[0].isdigit()):
        raise _usage("history", ["[n]", "[--browse]"])
    if browse:
        from lmbench.notebook.history_browser import history_browser

        return history_browser()
    count = int(rest[0]) if rest else 10
    entries = history.last(count)
    return EntriesView(entries, title=f"History (last {len(entries)} of {len(history)})")


def _last(args: list[str]) -> Any:
    from lmbench.notebook.render_prediction import FullPrediction
    from lmbench.observe.history import history

    if LastPrediction.value is not None:
        return FullPrediction(LastPrediction.value)
    entries = history.last(1)
    if entries:
        return entries[0]
    return message_panel(
        "lmbench last", "no prediction yet: run a %%predict cell or a module first"
    )


def _alias(args: list[str]) -> Any:
    from lmbench.notebook.models import remove_alias, set_alias

    if len(args) == 2 and args[1] == "--remove":
        removed = remove_alias(args[0])
        text = f"alias {args[0]} removed" if removed else f"there is no alias {args[0]}"
        return message_panel("lmbench alias", text)
    if len(args) != 2:
        raise _usage("alias", ["NAME provider/model", "| NAME --remove"])
    name, model = args
    set_alias(name, model)
    return message_panel("lmbench alias", f"-m {name} now means {model} (saved for later sessions)")


def _explain(args: list[str]) -> Any:
    from lmbench.notebook.explain import explain_last_error

    if args:
        raise _usage("explain", [])
    return explain_last_error()


def _help(args: list[str]) -> Any:
    return help_panel()


def help_panel() -> Any:
    text = (__doc__ or "").strip()
    return Panel("lmbench", pre(text), text)


def _cost(args: list[str]) -> Any:
    from lmbench.observe.history import history

    return cost_panel(history.cost())


def _cache(args: list[str]) -> Any:
    from lmbench.lm.cache import cache

    if args == ["stats"]:
        return cache_panel(cache.stats())
    if args == ["clear"]:
        cache.clear()
        return message_panel("lmbench cache", "cache cleared (memory and disk)")
    raise _usage("cache", ["stats|clear"])


def _number(text: str, what: str) -> float:
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        raise CellError(
            f"{what} {text!r} is not a number, e.g. {MAGIC} budget 0.50", line=0
        ) from None
    if value < 0:
        raise CellError(f"{what} {text!r} must be >= 0", line=0)
    return value


def _budget(args: list[str]) -> Any:
    from lmbench.calls.budget import set_session_budget

    if args == ["off"]:
        set_session_budget()
        return message_panel("lmbench budget", "session budget removed")
    usd: float | None = None
    tokens: int | None = None
    words = list(args)
    if "--tokens" in words:
        at = words.index("--tokens")
        if at + 1 >= len(words):
            raise _usage("budget", ["[USD]", "[--tokens N]", "| off"])
        tokens = int(_number(words[at + 1], "--tokens"))
        del words[at : at + 2]
    if len(words) > 1 or (not words and tokens is None):
        raise _usage("budget", ["[USD]", "[--tokens N]", "| off"])
    if words:
        usd = _number(words[0], "budget")
    set_session_budget(usd=usd, tokens=tokens)
    limits = " and ".join(
        part
        for part in (
            format_usd(usd, trim=True) if usd is not None else "",
            f"{tokens} tokens" if tokens else "",
        )
        if part
    )
    return message_panel("lmbench budget", f"session budget set: {limits} over every later call")


def _replay(args: list[str]) -> Any:
    from lmbench.lm.replay import replay

    if args == ["off"]:
        replay.off()
        return message_panel("lmbench replay", "replay off: calls go to the models")
    if len(args) == 2 and args[0] in ("record", "play"):
        mode, path = args
        switch = replay.record(path) if mode == "record" else replay.play(path)
        count = len(switch.replayer) if switch.replayer is not None else 0
        what = (
            "recording every LM response to" if mode == "record" else "serving LM calls only from"
        )
        return message_panel("lmbench replay", f"{what} {path} ({count} responses in the file)")
    raise _usage("replay", ["record PATH | play PATH | off"])


def _eval(args: list[str]) -> Any:
    from lmbench.evaluate.runs import load_run, runs

    if args == ["runs"]:
        import pandas as pd

        return (
            pd.DataFrame(runs()).set_index("run_id")
            if runs()
            else message_panel(
                "lmbench eval", "no run yet: call lmbench.evaluate or %%predict --over DF --metric"
            )
        )
    if len(args) > 1:
        raise _usage("eval", ["[RUN_ID | runs]"])
    if args:
        try:
            return load_run(args[0])
        except KeyError as exc:
            raise CellError(str(exc.args[0]), line=0) from None
    evaluations = [r for r in runs() if r["kind"] == "evaluate"]
    if not evaluations:
        return message_panel(
            "lmbench eval",
            "no evaluation yet: call lmbench.evaluate or %%predict --over DF --metric",
        )
    return load_run(evaluations[-1]["run_id"])


COMMANDS: dict[str, Callable[[list[str]], Any]] = {
    "help": _help,
    "config": _config,
    "models": _models,
    "alias": _alias,
    "explain": _explain,
    "history": _history,
    "last": _last,
    "cost": _cost,
    "cache": _cache,
    "budget": _budget,
    "replay": _replay,
    "eval": _eval,
}


def run_lmbench(line: str) -> Any:
    """The ``%lmbench`` line magic: the panel or widget of the command is the cell's output."""
    try:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise CellError(f"cannot read the command: {exc}", line=0, source=line) from None
        if not words:
            return help_panel()
        if words[0] not in COMMANDS:
            raise CellError(
                f"unknown command {words[0]!r}; commands: {', '.join(COMMANDS)}",
                line=0,
                source=line,
            )
        return COMMANDS[words[0]](words[1:])
    except Exception as exc:
        from lmbench.errors import LMBenchError

        if isinstance(exc, (CellError, LMBenchError)):
            raise problem_from(MAGIC, exc) from None
        raise
