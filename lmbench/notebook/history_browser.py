"""``lmbench.history_browser()``: the calls of the session in a filterable list; selecting one
shows its full entry (prompt, response, usage, cost, repairs, error)."""

from __future__ import annotations

import datetime
from typing import Any

from lmbench.notebook.render_history import entry_html
from lmbench.notebook.render_prediction import format_cost

__all__ = ["ALL", "HistoryBrowser", "history_browser"]

ALL = "(all)"


def _label(entry: Any) -> str:
    clock = datetime.datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S")
    flag = "ERROR " if entry.error else ""
    return (
        f"{clock}  {flag}{entry.provider}/{entry.model}  {entry.module or '-'}  "
        f"{entry.usage.input_tokens}/{entry.usage.output_tokens} tok  {format_cost(entry.cost_usd)}  "
        f"{entry.latency_s:.2f}s  {entry.cache}"
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
        self.detail = widgets.HTML()
        self.entries: list[Any] = []
        self._refreshing = False
        for control in (self.model, self.module, self.errors_only):
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.calls.observe(lambda change: self.show(change["new"]), names="value")
        filters = widgets.HBox([self.model, self.module, self.errors_only, self.refresh_button])
        self.widget = widgets.VBox([filters, self.calls, self.detail])
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
        self.calls.options = [(_label(e), i) for i, e in enumerate(self.entries)]
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

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def history_browser(history: Any = None) -> HistoryBrowser:
    """A browser over ``history`` (default: this process's ``lmbench.observe.history``)."""
    return HistoryBrowser(history)
