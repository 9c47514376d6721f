"""%%predict: run a signature on the inputs written in the cell.

    %%predict "question -> answer: int" --out pred
    question: How many legs has a spider?

The signature is quoted. Each body line is "field: value"; {name}, {Out[2]} and {In[1]}
are replaced by the notebook's values. With no signature the body is the prompt of
"prompt -> response" (a free-form cell), and -f markdown|code|html|json|text says how the
response is shown (-f code also puts it into a new cell below).

Options: -m/--model NAME (or an alias from %lmbench alias), -a/--adapter, --module,
-n, -t/--temperature, -f/--format, --demos VAR, --signature VAR, --out VAR, --stream,
--no-cache, --prompt (show the exact prompt, call nothing), --over DF (every row of a
DataFrame; --metric NAME --expected COLUMN scores it, --executor dask runs it on the Dask
cluster, --threads N), --compare M1,M2 (side by side on several models).
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmbench.adapters.resolve import ADAPTER_NAMES
from lmbench.notebook.cell_inputs import (
    CellError,
    check_complete,
    coerce_inputs,
    interpolate,
    parse_cell,
)
from lmbench.notebook.cell_modules import (
    BUILTIN_MODULES,
    ModuleOptions,
    add_module_options,
    module_options,
)
from lmbench.notebook.formats import FORMATS, FREEFORM_SIGNATURE, ResponseView
from lmbench.notebook.html import box, kv_table, meta, pre
from lmbench.notebook.live_cell import SHOWN, run_in_cell
from lmbench.notebook.models import configured_model_name, resolve_model
from lmbench.notebook.problems import problem_from
from lmbench.notebook.state import LastPrediction

__all__ = [
    "ADAPTERS",
    "MODULES",
    "PredictCell",
    "PromptView",
    "StreamView",
    "build_program",
    "register_module",
    "run_predict",
]

MAGIC = "%%predict"

#: ``--module`` names -> factories ``(signature, **predict_options) -> module``.
MODULES: dict[str, Callable[..., Any]] = {}

#: ``--adapter`` names: those ``lmbench.adapters.resolve_adapter`` knows.
ADAPTERS = ADAPTER_NAMES


def register_module(name: str, factory: Callable[..., Any]) -> None:
    """Make ``--module name`` build ``factory(signature, lm=, adapter=, demos=, config=)``."""
    MODULES[name] = factory


def build_program(
    module: str,
    signature: Any,
    *,
    model: Any = None,
    adapter: str | None = None,
    demos: Any = (),
    config: Mapping[str, Any] | None = None,
    extra: ModuleOptions | None = None,
) -> Any:
    """The program a ``--module`` name and ``--adapter`` name stand for (``extra``: the
    tools, reward... of the modules that need them; see ``lmbench.notebook.cell_modules``)."""
    options = {"lm": model, "adapter": adapter, "demos": demos, "config": dict(config or {})}
    if module in MODULES:
        return MODULES[module](signature, **options)
    factory = BUILTIN_MODULES.get(module)
    if factory is None:
        known = sorted({*BUILTIN_MODULES, *MODULES})
        raise CellError(
            f"--module {module}: unknown module; known: {', '.join(known)} "
            "(add one with lmbench.notebook.register_module)",
            line=0,
        )
    return factory(signature, extra or ModuleOptions(), **options)


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as ``CellError`` (with a did-you-mean) instead of exiting."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            words = message.split(":", 1)[1].split()
            known = [o for action in self._actions for o in action.option_strings]
            hints = [
                difflib.get_close_matches(w, known, n=1, cutoff=0.7)
                for w in words
                if w.startswith("-")
            ]
            hint = "; ".join(f"did you mean {h[0]}?" for h in hints if h)
            options = [w for w in words if w.startswith("-")] or words
            message = f"unknown option(s) {' '.join(options)}" + (f" ({hint})" if hint else "")
        raise CellError(f"{message}. See %%predict? for the options.", line=0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=MAGIC, add_help=False, allow_abbrev=False)
    parser.add_argument("signature", nargs="?", help='signature, e.g. "question -> answer: int"')
    parser.add_argument("-m", "--model", help="model name or alias, e.g. openai/gpt-4o-mini")
    parser.add_argument("-a", "--adapter", choices=ADAPTERS, help="prompt format")
    parser.add_argument(
        "--module",
        default="predict",
        help="predict, cot, react, pot, best_of_n, refine, or a registered name",
    )
    parser.add_argument("-n", type=int, help="number of completions")
    parser.add_argument("-t", "--temperature", type=float)
    parser.add_argument("--demos", metavar="VAR", help="variable holding demos (Examples or dicts)")
    parser.add_argument(
        "--signature", dest="signature_var", metavar="VAR", help="variable holding a Signature"
    )
    parser.add_argument("--out", metavar="VAR", help="store the result in this variable")
    parser.add_argument("--stream", action="store_true", help="show output fields as they arrive")
    parser.add_argument("--no-cache", dest="no_cache", action="store_true")
    parser.add_argument("--prompt", action="store_true", help="show the exact prompt; call nothing")
    parser.add_argument("--over", metavar="DF", help="run for every row of this DataFrame")
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="with --over: score rows (exact_match, f1, contains, "
        "numeric, or a variable holding a metric)",
    )
    parser.add_argument("--expected", metavar="COLUMN", help="with --metric: the label column")
    parser.add_argument(
        "--executor", choices=("threads", "dask"), default="threads", help="with --over"
    )
    parser.add_argument("--threads", type=int, default=8, help="with --over: rows at once")
    parser.add_argument("--compare", metavar="M1,M2", help="run on several models side by side")
    parser.add_argument("-f", "--format", choices=FORMATS, help="how the response is shown")
    add_module_options(parser)
    return parser


def _check_quoted(words: list[str], line: str) -> None:
    """An unquoted signature splits into several words around ``->``: say to quote it."""
    takes_value = {
        o for action in build_parser()._actions if action.nargs != 0 for o in action.option_strings
    }

    def positional(i: int) -> bool:
        return (
            0 <= i < len(words)
            and not words[i].startswith("-")
            and not (i > 0 and words[i - 1] in takes_value)
        )

    for i, word in enumerate(words):
        if "->" not in word or " " in word or (not positional(i) and word != "->"):
            continue
        if word.startswith("->") or word.endswith("->") or positional(i - 1) or positional(i + 1):
            start, end = i, i + 1
            while positional(start - 1):
                start -= 1
            while positional(end):
                end += 1
            raise CellError(
                f'the signature must be quoted: %%predict "{" ".join(words[start:end])}" '
                "(unquoted, its words are read as separate options)",
                line=0,
                source=line,
            )


@dataclass(frozen=True)
class PromptView:
    """The exact prompt a cell would send."""

    signature: Any
    text: str

    def _repr_html_(self) -> str:
        return box(f"Prompt · {self.signature}", pre(self.text), meta="not sent")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)


@dataclass
class StreamView:
    """Output fields while they stream in, under the module's latest status lines (which
    step, which tool runs with which arguments, which attempt); drawn under the live status
    line of the cell."""

    fields: dict[str, str] = field(default_factory=dict)
    status: list[str] = field(default_factory=list)

    #: Status lines kept on show (the latest ones).
    SHOWN_STATUS = 8

    def fields_html(self) -> str:
        steps = "".join(f"<div>{meta(line)}</div>" for line in self.status[-self.SHOWN_STATUS :])
        return steps + kv_table((name, pre(text)) for name, text in self.fields.items())

    def _repr_html_(self) -> str:
        return box("Streaming", self.fields_html())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        lines = [*self.status[-self.SHOWN_STATUS :], *(f"{k}: {v}" for k, v in self.fields.items())]
        printer.text("\n".join(lines) or "streaming…")


def _lookup(namespace: Mapping[str, Any], name: str, option: str) -> Any:
    if name not in namespace:
        raise CellError(f"{option} {name}: no variable named {name!r} in the notebook", line=0)
    return namespace[name]


def _user_types(namespace: Mapping[str, Any]) -> dict[str, type]:
    """Classes defined in the notebook, so a signature string can name them (``label: Mood``)."""
    return {k: v for k, v in namespace.items() if isinstance(v, type) and not k.startswith("_")}


@dataclass
class PredictCell:
    """A parsed ``%%predict`` cell: what to build and what to run."""

    options: argparse.Namespace
    signature: Any
    inputs: dict[str, Any]
    program: Any
    call_kwargs: dict[str, Any]
    result: Any = None

    @classmethod
    def parse(cls, line: str, body: str, namespace: Mapping[str, Any]) -> PredictCell:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise CellError(f"cannot read the options: {exc}", line=0, source=line) from None
        _check_quoted(words, line)
        try:
            options = build_parser().parse_args(words)
        except CellError as exc:
            raise CellError(exc.message, line=0, source=line) from None
        cls._check_modes(options)
        options.model = resolve_model(options.model)
        signature = cls._signature(options, namespace, line)
        if cls.freeform(options):
            if not body.strip():
                raise CellError(
                    "the cell is empty: write the prompt below %%predict, or give a quoted "
                    'signature such as %%predict "question -> answer"',
                    line=1,
                )
            inputs = {"prompt": interpolate(body.strip("\n"), namespace, line=1, source=body)}
        else:
            inputs = coerce_inputs(parse_cell(body, namespace), signature)
        if options.over is None:
            check_complete(signature, set(inputs))
        program = cls._program(options, signature, namespace)
        call_kwargs: dict[str, Any] = {}
        if options.n is not None:
            call_kwargs["n"] = options.n
        return cls(options, signature, inputs, program, call_kwargs)

    @staticmethod
    def freeform(options: argparse.Namespace) -> bool:
        """No signature given: the body is the prompt of ``prompt -> response``."""
        return options.signature is None and options.signature_var is None

    @property
    def model_name(self) -> str:
        """The model the cell calls, for its status line."""
        return self.options.model or configured_model_name()

    def view(self, result: Any) -> Any:
        """What the cell shows for ``result``: the prediction, or its response in ``-f``."""
        from lmbench.primitives.prediction import Prediction

        fmt = self.options.format
        if not isinstance(result, Prediction) or (fmt is None and not self.freeform(self.options)):
            return result
        name = next(iter(self.signature.output_fields))
        return ResponseView(str(result.get(name)), fmt or "markdown", result)

    @staticmethod
    def _check_modes(options: argparse.Namespace) -> None:
        modes = [name for name in ("stream", "prompt", "over", "compare") if getattr(options, name)]
        if len(modes) > 1:
            raise CellError(f"--{modes[0]} and --{modes[1]} cannot be used together", line=0)
        if options.compare is not None and options.model is not None:
            raise CellError("--compare names the models: leave out -m/--model", line=0)
        if options.over is None and (options.metric or options.expected):
            raise CellError("--metric and --expected score an --over DF run: add --over", line=0)
        if options.expected is not None and options.metric is None:
            raise CellError("--expected COLUMN names the labels for --metric: add --metric", line=0)

    @staticmethod
    def _signature(options: argparse.Namespace, namespace: Mapping[str, Any], line: str) -> Any:
        from lmbench.errors import SignatureError
        from lmbench.signatures import Signature, ensure_signature

        if options.signature_var is not None:
            if options.signature is not None:
                raise CellError(
                    "give the signature as a string or with --signature VAR, not both", line=0
                )
            value = _lookup(namespace, options.signature_var, "--signature")
            if not isinstance(value, Signature):
                raise CellError(
                    f"--signature {options.signature_var}: {type(value).__name__} is not a Signature "
                    "(define it with lmbench.Signature(...) or class X(lmbench.Signature))",
                    line=0,
                )
            return value
        if options.signature is None:
            return ensure_signature(FREEFORM_SIGNATURE)
        try:
            return ensure_signature(options.signature, _user_types(namespace))
        except SignatureError as exc:
            raise CellError(str(exc), line=0, source=line) from None

    @staticmethod
    def _program(options: argparse.Namespace, signature: Any, namespace: Mapping[str, Any]) -> Any:
        config: dict[str, Any] = {}
        if options.temperature is not None:
            config["temperature"] = options.temperature
        if options.no_cache:
            config["cache"] = False
        demos = _lookup(namespace, options.demos, "--demos") if options.demos else ()
        if not isinstance(demos, (list, tuple)):
            raise CellError(
                f"--demos {options.demos}: expected a list of Examples or dicts, got {type(demos).__name__}",
                line=0,
            )
        return build_program(
            options.module,
            signature,
            model=options.model,
            adapter=options.adapter,
            demos=demos,
            config=config,
            extra=module_options(options, namespace),
        )

    # -- running -------------------------------------------------------------------------------
    def run(self, namespace: Mapping[str, Any]) -> Any:
        options = self.options
        if options.prompt:
            if not hasattr(self.program, "render"):
                raise CellError(
                    f"--prompt: --module {options.module} cannot show its prompt before it "
                    "runs; run the cell and look at the prompts in pred.lm_calls",
                    line=0,
                )
            return PromptView(self.signature, self.program.render(**self.inputs))
        if options.over is not None:
            return self._run_over(namespace)
        if options.compare is not None:
            from lmbench.notebook.batch import compare_models

            models = [resolve_model(m.strip()) for m in options.compare.split(",") if m.strip()]
            if len(models) < 2:
                raise CellError("--compare needs at least two models, separated by commas", line=0)
            return compare_models(
                self.program,
                models,
                self.inputs,
                call_kwargs=self.call_kwargs,
                description=f"{MAGIC} --compare",
            )
        if options.stream:
            return self._stream()
        return self.program(**self.inputs, **self.call_kwargs)

    def _metric(self, namespace: Mapping[str, Any], frame: Any) -> Any:
        """The ``--metric`` (a built-in name or a notebook variable), on ``--expected``."""
        from lmbench.metrics import FieldMetric, resolve_metric

        name, expected = self.options.metric, self.options.expected
        metric = namespace[name] if name in namespace else resolve_metric(name)
        if expected is None:
            return metric
        if expected not in frame.columns:
            raise CellError(
                f"--expected {expected}: no such column in {self.options.over}; "
                f"columns: {list(frame.columns)}",
                line=0,
            )
        if not isinstance(metric, FieldMetric):
            raise CellError(
                f"--expected works with the built-in metrics; {name} decides itself which "
                "labels it reads",
                line=0,
            )
        return metric.on(next(iter(self.signature.output_fields)), expected=expected)

    def _run_over(self, namespace: Mapping[str, Any]) -> Any:
        from lmbench.evaluate.runner import batch, evaluate

        frame = _lookup(namespace, self.options.over, "--over")
        columns = getattr(frame, "columns", None)
        if columns is None:
            raise CellError(
                f"--over {self.options.over}: {type(frame).__name__} is not a DataFrame", line=0
            )
        check_complete(self.signature, set(self.inputs) | set(columns), frame=self.options.over)
        common = {
            "executor": self.options.executor,
            "threads": self.options.threads,
            "constants": self.inputs,
            "call_kwargs": self.call_kwargs,
        }
        description = f"{MAGIC} over {self.options.over}"
        if self.options.metric is not None:
            metric = self._metric(namespace, frame)
            return evaluate(self.program, frame, metric, name=description, **common)
        return batch(self.program, frame, description=description, **common).frame()

    def run_live(self, namespace: Mapping[str, Any], status: Any) -> Any:
        """Run with a live status line (``status`` may be None: no notebook front end)."""
        if self.options.stream:
            return self._stream(status)
        return self.run(namespace)

    def _stream(self, status: Any) -> Any:
        from lmbench.adapters.base import FieldDelta
        from lmbench.modules.events import StatusEvent

        view = StreamView()
        for event in self.program.stream(**self.inputs, **self.call_kwargs):
            if isinstance(event, FieldDelta):
                view.fields[event.field] = event.value_so_far
                doing = f"receiving {event.field}"
            elif isinstance(event, StatusEvent):
                view.status.append(event.text)
                doing = event.text
            else:
                return event
            if status is not None:
                status.show_below(view.fields_html(), doing=doing)
        raise CellError("the stream ended without a prediction")


def run_predict(shell: Any, line: str, body: str) -> Any:
    """The ``%%predict`` magic: parse, run, store ``--out``; the value (or None) is the output.

    A call shows a live status line at once, which becomes the result (or the error card).
    """
    namespace = shell.user_ns
    try:
        cell = PredictCell.parse(line, body, namespace)
        options = cell.options
        if options.prompt or options.over is not None or options.compare is not None:
            shown = False
            _keep(cell, cell.run(namespace), namespace)
        else:

            def work(status: Any) -> Any:
                return _keep(cell, cell.run_live(namespace, status), namespace)

            shown = run_in_cell(shell, MAGIC, cell.model_name, work, view=cell.view) is SHOWN
    except Exception as exc:
        from lmbench.errors import LMBenchError

        if isinstance(exc, (CellError, LMBenchError)):
            raise problem_from(MAGIC, exc) from None
        raise
    value = cell.view(cell.result)
    if options.format == "code" and isinstance(value, ResponseView):
        from lmbench.notebook.formats import strip_fences

        shell.set_next_input(strip_fences(value.text), replace=False)
    if shown:
        return None
    if options.out:
        from IPython.display import display

        display(value)
        return None
    return value


def _keep(cell: PredictCell, result: Any, namespace: Any) -> Any:
    """Remember the result (``%lmbench last``, ``--out VAR``) as soon as it exists."""
    cell.result = result
    LastPrediction.remember(result)
    if cell.options.out:
        namespace[cell.options.out] = result
    return result
