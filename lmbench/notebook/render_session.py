"""Panels for ``%lmbench``: configuration, models and keys, cost roll-up, cache, messages."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from lmbench.notebook.html import badge, box, code, details, esc, heading, kv_table, note, table
from lmbench.notebook.render_prediction import format_cost

__all__ = [
    "Panel",
    "cache_panel",
    "config_panel",
    "cost_panel",
    "key_state",
    "message_panel",
    "models_panel",
    "shown_path",
]


@dataclass(frozen=True)
class Panel:
    """A titled block with an HTML and a text form."""

    title: str
    html_body: str
    text: str

    def _repr_html_(self) -> str:
        return box(self.title, self.html_body)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"{self.title}\n{self.text}")


def message_panel(title: str, message: str) -> Panel:
    return Panel(title, f"<div>{esc(message)}</div>", message)


def _pairs_panel(title: str, pairs: list[tuple[str, str]]) -> Panel:
    html_body = kv_table((name, esc(value)) for name, value in pairs)
    text = "\n".join(f"  {name}: {value}" for name, value in pairs)
    return Panel(title, html_body, text)


def shown_path(path: Any) -> str:
    """A path as a saved notebook may show it: ``~/...`` under the home folder, and no
    machine-specific temporary folder (only its last part)."""
    import tempfile
    from pathlib import Path

    if path is None:
        return "none"
    full = Path(path).expanduser().resolve()
    for base, label in ((Path(tempfile.gettempdir()).resolve(), "a temporary folder"),):
        if full.is_relative_to(base):
            return f"{label} (…/{full.name})"
    home = Path.home().resolve()
    if full.is_relative_to(home) and home != Path("/"):
        return "~/" + str(full.relative_to(home))
    return str(full)


def collector_text(collector: Any) -> str:
    """What keeps the history: memory, or the kind of file and where it is."""
    path = getattr(collector, "path", None)
    if path is None:
        maxlen = getattr(collector, "maxlen", None)
        if maxlen is not None:  # the memory collector keeps the latest entries
            return f"in memory ({len(collector)} entries, keeps the last {maxlen})"
        return repr(collector)
    kind = type(collector).__name__.removesuffix("Collector")
    return f"{kind} file {shown_path(path)}"


def config_panel() -> Panel:
    from lmbench.calls.budget import session_budget
    from lmbench.env import env_str
    from lmbench.lm.cache import cache
    from lmbench.lm.registry import DEFAULT_MODEL
    from lmbench.lm.replay import replay
    from lmbench.observe.history import history
    from lmbench.settings import current

    settings = current()
    lm = settings.lm
    model = lm if isinstance(lm, str) else getattr(lm, "name", None)
    source = (
        "configured"
        if lm is not None
        else "LMBENCH_MODEL"
        if env_str("LMBENCH_MODEL")
        else "default"
    )
    model = model or env_str("LMBENCH_MODEL") or DEFAULT_MODEL
    adapter = settings.adapter
    adapter_name = (
        "default (per model)" if adapter is None else str(getattr(adapter, "name", adapter))
    )
    limit = session_budget()
    pairs = [
        ("model", f"{model} ({source})"),
        ("adapter", adapter_name),
        (
            "cache",
            ("on" if settings.cache else "off")
            + f", folder {shown_path(cache.directory) if cache.directory else 'memory only'}",
        ),
        ("history", collector_text(history.collector)),
        ("replay", replay.mode + (f" {shown_path(replay.path)}" if replay.path else "")),
        ("session budget", "none" if limit is None else _budget_text(limit)),
    ]
    return _pairs_panel("lmbench config", pairs)


def _budget_text(limit: Any) -> str:
    parts = []
    if limit.usd is not None:
        parts.append(f"{format_cost(limit.spent_usd)} of {format_cost(limit.usd)}")
    if limit.tokens is not None:
        parts.append(f"{limit.spent_tokens} of {limit.tokens} tokens")
    return ", ".join(parts) + f" ({limit.calls} calls)"


def key_state(provider: str) -> tuple[str, str]:
    """(what the notebook shows about ``provider``'s API key, badge kind): which variable is
    set, never its value."""
    from lmbench.providers.services import PROVIDERS

    service = PROVIDERS.get(provider)
    if service is None:
        return "registered provider", "ok"
    if not service.key_env:
        return "no key needed", "ok"
    present = [name for name in service.key_env if os.environ.get(name, "").strip()]
    if present:
        return f"{present[0]} set", "ok"
    if not service.key_required:
        return f"no key needed ({' / '.join(service.key_env)} optional)", "ok"
    return f"{' or '.join(service.key_env)} not set", "warn"


def models_panel() -> Panel:
    """Every provider prefix with its key state and the models known for it, and the aliases."""
    from lmbench.lm.registry import DEFAULT_MODEL, known_providers
    from lmbench.notebook.models import aliases, known_models

    models = known_models()
    rows_html = []
    rows_text = []
    for provider in known_providers():
        state, kind = key_state(provider)
        names = models.get(provider, [])
        shown = ", ".join(names[:4]) + (f", … ({len(names)} in all)" if len(names) > 4 else "")
        listing = esc(shown) if len(names) <= 4 else details(shown, esc(", ".join(names)))
        rows_html.append([code(f"{provider}/…"), badge(state, kind), listing])
        rows_text.append(f"  {provider + '/...':<24} {state:<34} {shown}")
    note_text = f"default model: {DEFAULT_MODEL}"
    body = table(["provider", "key", "known models"], rows_html, nowrap=(0, 1))
    body += note(note_text)
    text = [*rows_text, f"  {note_text}"]
    saved = aliases()
    if saved:
        body += heading("aliases") + kv_table((k, code(v)) for k, v in sorted(saved.items()))
        text += [f"  alias {k} -> {v}" for k, v in sorted(saved.items())]
    return Panel("lmbench models", body, "\n".join(text))


def cost_panel(report: Any) -> Panel:
    def groups_table(groups: dict[str, float | None]) -> str:
        ordered = sorted(groups.items(), key=lambda kv: -(kv[1] or 0))
        return table(["", "cost"], [[esc(name), esc(format_cost(usd))] for name, usd in ordered])

    total = format_cost(report.total_usd) + (
        "" if report.known else f" + {report.unpriced_calls} unpriced calls"
    )
    summary = kv_table(
        [
            ("calls", esc(f"{report.calls} ({report.cache_hits} from cache)")),
            ("tokens", esc(f"{report.usage.input_tokens} in / {report.usage.output_tokens} out")),
            ("total", esc(total)),
            ("saved by the cache", esc(format_cost(report.saved_usd))),
        ]
    )
    body = summary
    if report.by_model:
        body += heading("by model") + groups_table(report.by_model)
    if report.by_module:
        body += heading("by module") + groups_table(report.by_module)
    return Panel("lmbench cost", body, str(report))


def cache_panel(stats: Any) -> Panel:
    pairs = [
        ("hits", f"{stats.hits} ({stats.memory_hits} memory, {stats.disk_hits} disk)"),
        ("misses", str(stats.misses)),
        ("writes", str(stats.writes)),
        (
            "entries",
            f"{stats.memory_entries} in memory, {stats.disk_entries if stats.disk_entries is not None else 'no'} on disk",
        ),
        ("folder", shown_path(stats.directory) if stats.directory else "memory only"),
    ]
    return _pairs_panel("lmbench cache", pairs)
