"""``lmbench.history_browser()``: the calls of the session in a filterable list; selecting one
shows its full entry (signature, prompt, response, usage, cost, repairs, error).

Each row is one line in aligned columns (time, status, model, latency, cost, then the call's
inputs), in the code font, cut to fit so the list never scrolls sideways. Displayed outside a
live kernel (a saved notebook) the browser falls back to the static history table.
"""

from __future__ import annotations

import datetime
from typing import Any

from lmbench.notebook.render_history import entries_html, entry_html, inputs_preview
from lmbench.notebook.render_prediction import format_cost

__all__ = ["ALL", "HistoryBrowser", "history_browser", "row_label"]

ALL = "(all)"

#: The list's rows are aligned in the code font (the live widget is not sanitized).
_LIST_STYLE = (
    "<style>.lmb-history-list select{font-family:var(--jp-code-font-family,monospace);"
    "font-size:12px}</style>"
)
_MODEL_WIDTH = 24


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def row_label(entry: Any) -> str:
    """One aligned line: time, status, model, latency, cost, then the inputs."""
    clock = datetime.datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S")
    state = (
        "error" if entry.error else "fixed" if entry.fallback_from or entry.diagnostics else "ok"
    )
    model = _fit(f"{entry.provider}/{entry.model}", _MODEL_WIDTH)
    return (
        f"{clock}  {state:<5}  {model:<{_MODEL_WIDTH}}  {entry.latency_s:6.2f} s  "
        f"{format_cost(entry.cost_usd):>9}  {inputs_preview(entry)}"
    )


class HistoryBrowser:
    """Filters (model, module, errors only), the matching calls newest first, and the detail."""

    def __init__(self, history: Any = None) -> None:
        import ipywidgets as widgets

        if history is None:
            from lmbench.observe.history import history as default_history

            history = default_history
        self.history = history
        self.model = widgets.Dropdown(options=[ALL], value=ALL, description="model")
        self.module = widgets.Dropdown(options=[ALL], value=ALL, description="module")
        self.errors_only = widgets.Checkbox(value=False, description="errors only", indent=False)
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.calls = widgets.Select(options=[], rows=12, layout=widgets.Layout(width="100%"))
        self.calls.add_class("lmb-history-list")
        self.detail = widgets.HTML()
        self.entries: list[Any] = []
        self._refreshing = False
        for control in (self.model, self.module, self.errors_only):
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.calls.observe(lambda change: self.show(change["new"]), names="value")
        filters = widgets.HBox([self.model, self.module, self.errors_only, self.refresh_button])
        style = widgets.HTML(_LIST_STYLE)
        self.widget = widgets.VBox([style, filters, self.calls, self.detail])
        self.refresh()

    def refresh(self) -> None:
        """Read the history again and apply the filters."""
        if self._refreshing:  # changing a dropdown's choices below fires its observer
            return
        self._refreshing = True
        try:
            self._refresh()
        finally:
            self._refreshing = False

    def _refresh(self) -> None:
        everything = self.history.entries()
        self._set_choices(self.model, sorted({f"{e.provider}/{e.model}" for e in everything}))
        self._set_choices(self.module, sorted({e.module for e in everything if e.module}))
        self.entries = list(
            reversed(
                self.history.filter(
                    model=None if self.model.value == ALL else self.model.value,
                    module=None if self.module.value == ALL else self.module.value,
                    errors_only=self.errors_only.value,
                )
            )
        )
        self.calls.options = [(row_label(e), i) for i, e in enumerate(self.entries)]
        self.calls.value = 0 if self.entries else None
        self.show(self.calls.value)

    @staticmethod
    def _set_choices(dropdown: Any, names: list[str]) -> None:
        choices = [ALL, *names]
        if list(dropdown.options) != choices:
            current = dropdown.value if dropdown.value in choices else ALL
            dropdown.options = choices
            dropdown.value = current

    def show(self, index: int | None) -> None:
        """Show the entry at ``index`` of the filtered list (None clears the detail)."""
        if index is None or index >= len(self.entries):
            self.detail.value = "<i>no call matches the filters</i>" if not self.entries else ""
            return
        self.detail.value = entry_html(self.entries[index])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The live widget, with the history table as the static form a saved notebook keeps."""
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle = dict(bundle)
        bundle["text/html"] = entries_html(list(reversed(self.entries)), title="History")
        bundle["text/plain"] = repr(self)

        return bundle

    def __repr__(self) -> str:
        return f"<HistoryBrowser {len(self.entries)} calls>"


def history_browser(history: Any = None) -> HistoryBrowser:
    """A browser over ``history`` (default: this process's ``lmbench.observe.history``)."""
    return HistoryBrowser(history)
