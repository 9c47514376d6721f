"""``lmbench.playground(signature)``: a form to try a signature in a live kernel.

One input widget per input field (a text area for text, number boxes, a dropdown for
``Literal`` and ``Enum`` types, a checkbox for ``bool``; other types are typed as JSON or
Python literals), model and adapter dropdowns, a run button, the output streaming in, and the
rendered prediction below. Mistakes and failed calls are shown inline, never raised.

Everything is reachable from Python: ``pg.inputs["question"].value = "..."``,
``pg.run_button.click()``, then ``pg.prediction`` / ``pg.output.value``.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from lmbench.notebook.cell_inputs import CellError, CellValue, check_complete, coerce_inputs
from lmbench.notebook.html import badge, box, code, esc, note, table
from lmbench.notebook.predict_magic import ADAPTERS, StreamView, build_program
from lmbench.notebook.render_errors import parse_error_html
from lmbench.notebook.render_prediction import prediction_html
from lmbench.notebook.state import LastPrediction
from lmbench.notebook.status import LiveStatus

__all__ = ["DEFAULT_ADAPTER", "Playground", "input_widget", "playground"]

DEFAULT_ADAPTER = "default"


def _unwrap_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X``; other types as they are."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def input_widget(spec: Any) -> Any:
    """The widget for one input field, by its type."""
    import ipywidgets as widgets

    annotation = _unwrap_optional(spec.annotation)
    label = f"{spec.name}: {spec.type_name}"
    common: dict[str, Any] = {"description": spec.name, "tooltip": spec.desc or label}
    style = {"description_width": "initial"}
    default = spec.default if spec.has_default else None
    if typing.get_origin(annotation) is typing.Literal:
        options = list(typing.get_args(annotation))
        return widgets.Dropdown(
            options=options,
            value=default if default in options else options[0],
            style=style,
            **common,
        )
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        options = [(member.name, member) for member in annotation]
        return widgets.Dropdown(
            options=options, value=default or next(iter(annotation)), style=style, **common
        )
    if annotation is bool:
        return widgets.Checkbox(value=bool(default), indent=False, **common)
    if annotation is int:
        return widgets.IntText(value=default or 0, style=style, **common)
    if annotation is float:
        return widgets.FloatText(value=default or 0.0, style=style, **common)
    placeholder = spec.desc or (
        "text" if annotation is str else f'{spec.type_name} as JSON, e.g. ["a", "b"]'
    )
    return widgets.Textarea(
        value="" if default is None else str(default),
        placeholder=placeholder,
        layout=widgets.Layout(width="100%", height="5em"),
        style=style,
        **common,
    )


def _error_html(message: str) -> str:
    return box("Not run", f"<div>{esc(message)}</div>", meta=badge("error", "err"))


class Playground:
    """The form; ``widget`` is the ipywidgets tree shown in the notebook."""

    def __init__(
        self,
        signature: Any,
        *,
        models: list[str] | None = None,
        model: str | None = None,
        adapter: str = DEFAULT_ADAPTER,
        module: str = "predict",
        stream: bool = True,
    ) -> None:
        import ipywidgets as widgets

        from lmbench.signatures import ensure_signature

        self.signature = ensure_signature(signature)
        self.module = module
        self.inputs: dict[str, Any] = {
            name: input_widget(spec) for name, spec in self.signature.input_fields.items()
        }
        named = [(m, m) for m in [*(models or []), *([model] if model else [])]]
        choices = list(dict.fromkeys([*named, *_default_models()]))
        self.model = widgets.Dropdown(options=choices, value=choices[0][1], description="model")
        self.adapter = widgets.Dropdown(
            options=[DEFAULT_ADAPTER, *ADAPTERS], value=adapter, description="adapter"
        )
        self.stream = widgets.Checkbox(value=stream, description="stream", indent=False)
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.output = widgets.HTML()
        self.prediction: Any = None
        self.error: str | None = None
        self.run_button.on_click(lambda _button: self.run())
        controls = widgets.HBox([self.model, self.adapter, self.stream, self.run_button])
        title = widgets.HTML(
            f"<b>{esc(self.signature.name)}</b>: <code>{esc(str(self.signature))}</code>"
        )
        self.widget = widgets.VBox([title, *self.inputs.values(), controls, self.output])

    def values(self) -> dict[str, Any]:
        """The inputs as typed values; ``CellError`` names a field whose text does not fit."""
        text_fields = [
            CellValue(name, widget.value, 0, name, is_text=True)
            for name, widget in self.inputs.items()
            if isinstance(widget.value, str)
        ]
        values = coerce_inputs(text_fields, self.signature)
        values.update({n: w.value for n, w in self.inputs.items() if not isinstance(w.value, str)})
        check_complete(self.signature, {n for n, v in values.items() if v != ""}, form=True)
        return values

    def run(self) -> Any:
        """Run the signature on the form's values; the prediction, or None (error shown).

        While it runs the Run button is disabled and the output shows the live status line
        (model, what it is doing, seconds), which the prediction or the error then replaces.
        """
        from lmbench.errors import AdapterParseError, LMBenchError

        self.error = None
        self.prediction = None
        self.run_button.disabled = True
        status = LiveStatus(self._show, str(self.model.label or self.model.value), doing="starting")
        status.start()
        try:
            with status.watch():
                inputs = self.values()
                adapter = None if self.adapter.value == DEFAULT_ADAPTER else self.adapter.value
                program = build_program(
                    self.module, self.signature, model=self.model.value, adapter=adapter
                )
                self.prediction = (
                    self._stream(program, inputs, status)
                    if self.stream.value
                    else program(**inputs)
                )
        except AdapterParseError as exc:
            self.error = str(exc)
            status.finish(parse_error_html(exc))
            return None
        except (CellError, LMBenchError) as exc:
            self.error = getattr(exc, "message", None) or str(exc)
            status.finish(_error_html(self.error))
            return None
        except BaseException:
            status.finish(status.summary("stopped"))
            raise
        finally:
            self.run_button.disabled = False
        LastPrediction.remember(self.prediction)
        status.finish(prediction_html(self.prediction))
        return self.prediction

    def _show(self, view: Any) -> None:
        self.output.value = view if isinstance(view, str) else view._repr_html_()

    def _stream(self, program: Any, inputs: dict[str, Any], status: LiveStatus) -> Any:
        from lmbench.adapters.base import FieldDelta

        view = StreamView()
        for event in program.stream(**inputs):
            if not isinstance(event, FieldDelta):
                return event
            view.fields[event.field] = event.value_so_far
            status.show_below(view.fields_html(), doing=f"receiving {event.field}")
        raise CellError("the stream ended without a prediction")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The live form, with a static view (fields and their widgets) for saved notebooks."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        rows = [
            [code(name), esc(spec.type_name), esc(spec.desc or "")]
            for name, spec in self.signature.input_fields.items()
        ]
        static = table(["input", "type", "description"], rows, nowrap=(0, 1))
        static += note("A live form: run this cell in a kernel to fill it in and press Run.")
        bundle["text/html"] = box(f"Playground · {self.signature}", static + self.output.value)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"<Playground {self.signature}>"


def _default_models() -> list[tuple[str, Any]]:
    """(label, model) choices: the configured model (a name or an LM object), the default."""
    from lmbench.lm.registry import DEFAULT_MODEL
    from lmbench.settings import current

    configured = current().lm
    choices: list[tuple[str, Any]] = []
    if configured is not None:
        label = configured if isinstance(configured, str) else f"{configured.name} (configured)"
        choices.append((label, configured))
    choices.append((DEFAULT_MODEL, DEFAULT_MODEL))
    return choices


def playground(signature: Any, **options: Any) -> Playground:
    """A form for ``signature`` (a Signature or a string); see ``Playground`` for options."""
    return Playground(signature, **options)
