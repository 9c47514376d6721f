"""Running a program on several models side by side (``%%predict --compare``).

Failures stay with their model (an error cell): an unreachable provider never stops the
comparison. Runs over the rows of a DataFrame are ``lmbench.batch`` (``run_over`` is its
deprecated former name).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmbench.errors import describe_error
from lmbench.notebook.html import badge, box, esc, pre, show_value, table
from lmbench.notebook.render_prediction import format_cost
from lmbench.progress import RunProgress

__all__ = ["Comparison", "ModelRun", "compare_models", "run_over"]


def _stats(prediction: Any, started: float) -> dict[str, Any]:
    usage = prediction.usage
    duration = prediction.call.duration_s if prediction.call is not None else None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": prediction.cost,
        "latency_s": duration if duration is not None else time.perf_counter() - started,
        "error": None,
    }


def _output_names(signature: Any, predictions: Sequence[Any]) -> list[str]:
    """The signature's outputs, then fields a module adds (ChainOfThought's ``reasoning``)."""
    names = dict.fromkeys(signature.output_fields)
    for prediction in predictions:
        names.update(dict.fromkeys(prediction))
    return list(names)


def run_over(
    program: Any,
    frame: Any,
    *,
    constants: Mapping[str, Any] | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
    description: str = "rows",
) -> Any:
    """Deprecated: ``lmbench.batch(program, frame, ...).frame()`` does this (and runs on Dask)."""
    import warnings

    from lmbench.evaluate import batch

    warnings.warn(
        "run_over is deprecated and will be removed in the next release: use "
        "lmbench.batch(program, frame).frame()",
        DeprecationWarning,
        stacklevel=2,
    )
    return batch(
        program, frame, constants=constants, call_kwargs=call_kwargs, description=description
    ).frame()


@dataclass
class ModelRun:
    """One model's result in a comparison: its prediction, or the error it raised."""

    model: str
    prediction: Any = None
    error: str | None = None
    latency_s: float = 0.0


@dataclass
class Comparison:
    """The same inputs on several models, shown side by side."""

    signature: Any
    inputs: dict[str, Any]
    runs: list[ModelRun]

    @property
    def predictions(self) -> dict[str, Any]:
        return {run.model: run.prediction for run in self.runs if run.prediction is not None}

    @property
    def fields(self) -> list[str]:
        return _output_names(self.signature, list(self.predictions.values()))

    def frame(self) -> Any:
        """One row per model: output fields, tokens, cost, latency, error."""
        import pandas as pd

        rows = []
        for run in self.runs:
            row: dict[str, Any] = {"model": run.model}
            prediction = run.prediction
            row.update({name: prediction.get(name) if prediction else None for name in self.fields})
            usage = prediction.usage if prediction is not None else None
            row.update(
                input_tokens=usage.input_tokens if usage else 0,
                output_tokens=usage.output_tokens if usage else 0,
                cost_usd=prediction.cost if prediction is not None else 0.0,
                latency_s=run.latency_s,
                error=run.error,
            )
            rows.append(row)
        return pd.DataFrame(rows).set_index("model")

    def _cell(self, run: ModelRun, name: str) -> str:
        if run.prediction is None:
            return ""
        return show_value(run.prediction.get(name))

    def _repr_html_(self) -> str:
        headers = ["", *(run.model for run in self.runs)]
        rows = [
            [f"<b>{esc(name)}</b>", *(self._cell(run, name) for run in self.runs)]
            for name in self.fields
        ]
        rows.append(["tokens in/out", *(esc(_tokens(run)) for run in self.runs)])
        rows.append(
            [
                "cost",
                *(
                    esc(format_cost(run.prediction.cost) if run.prediction else "-")
                    for run in self.runs
                ),
            ]
        )
        rows.append(["latency", *(esc(f"{run.latency_s:.3f} s") for run in self.runs)])
        rows.append(
            [
                "status",
                *(
                    badge("error", "err") + pre(run.error) if run.error else badge("ok", "ok")
                    for run in self.runs
                ),
            ]
        )
        return box(
            f"Comparison · {self.signature}",
            table(headers, rows),
            meta=esc(f"{len(self.runs)} models"),
        )

    def __str__(self) -> str:
        lines = [f"Comparison · {self.signature}"]
        for run in self.runs:
            if run.error:
                lines.append(f"  {run.model}: ERROR {run.error}")
                continue
            fields = ", ".join(f"{k}={v!r}" for k, v in run.prediction.items())
            lines.append(
                f"  {run.model}: {fields}  [{_tokens(run)} tokens, {format_cost(run.prediction.cost)}, {run.latency_s:.3f} s]"
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _tokens(run: ModelRun) -> str:
    if run.prediction is None:
        return "-"
    usage = run.prediction.usage
    return f"{usage.input_tokens}/{usage.output_tokens}"


def compare_models(
    program: Any,
    models: Sequence[str],
    inputs: Mapping[str, Any],
    *,
    call_kwargs: Mapping[str, Any] | None = None,
    description: str = "compare",
) -> Comparison:
    """Call ``program`` with the same ``inputs`` on each model (``lm=`` per call), under the
    progress view of every run over many items (``RunProgress``)."""
    runs = []
    bar = RunProgress(len(models), description=description, unit="models")
    try:
        for model in models:
            bar.working_on(model)
            started = time.perf_counter()
            try:
                prediction = program(**inputs, lm=model, **dict(call_kwargs or {}))
            except Exception as exc:  # one model's failure is that model's result
                elapsed = time.perf_counter() - started
                runs.append(ModelRun(model, error=describe_error(exc), latency_s=elapsed))
                bar.advance(1, errors=1)
            else:
                latency = _stats(prediction, started)["latency_s"]
                runs.append(ModelRun(model, prediction, latency_s=latency))
                bar.advance(1)
    finally:
        bar.close()
    return Comparison(program.signature, dict(inputs), runs)
