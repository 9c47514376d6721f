"""Few-shot demos from data: ``LabeledFewShot`` and ``BootstrapFewShot``.

``compile(program, trainset)`` returns a copy of ``program`` whose predictors carry demos;
the original is left as it was. The copy saves and loads as JSON like any program
(``compiled.save("qa.json")``, ``Predict(sig).load("qa.json")``).

- ``LabeledFewShot(k)``: ``k`` training examples (sampled with a fixed seed) as demos.
- ``BootstrapFewShot(metric, max_demos=4, teacher=None)``: runs the teacher (default: a copy
  of the program) on training examples and keeps, for every predictor, the inputs and
  outputs of the calls it made on examples whose prediction passed ``metric``; so a
  multi-step program gets demos for its inner steps too, which the data does not have.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from lmbench.errors import ConfigError
from lmbench.evaluate.data import Row, load_rows
from lmbench.metrics import resolve_metric

__all__ = ["BootstrapFewShot", "LabeledFewShot", "clone_program"]


def _predictors(program: Any) -> list[tuple[str, Any]]:
    named = getattr(program, "named_predictors", None)
    if named is None:
        raise ConfigError(
            f"{type(program).__name__} is not an lmbench Module: few-shot compilation sets the "
            "demos of its Predict steps"
        )
    found = list(named())
    if not found:
        raise ConfigError(f"{type(program).__name__} has no Predict step to give demos to")
    return found


def clone_program(program: Any) -> Any:
    """A deep copy of ``program`` that shares its LM and adapter objects (HTTP clients,
    loaded local models) instead of copying them."""
    memo: dict[int, Any] = {}
    for _path, predictor in _predictors(program):
        for shared in (predictor.lm, predictor.adapter):
            if shared is not None and not isinstance(shared, str):
                memo[id(shared)] = shared
    return copy.deepcopy(program, memo)


def _demo(row: Row, predictor: Any) -> dict[str, Any] | None:
    """The row as a demo for ``predictor``: its signature's fields, when all outputs are there."""
    fields = {**row.inputs, **row.labels}
    signature = predictor.signature
    if any(name not in fields for name in signature.output_fields):
        return None
    return {name: fields[name] for name in signature.fields if name in fields}


class LabeledFewShot:
    """``k`` labeled training examples as demos for every predictor that they fit."""

    def __init__(self, k: int = 16, *, sample: bool = True, seed: int = 0) -> None:
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"LabeledFewShot(k={k!r}): k is the number of demos, at least 1")
        self.k = k
        self.sample = sample
        self.seed = seed

    def compile(self, program: Any, trainset: Any) -> Any:
        rows = load_rows(trainset, program)
        if self.sample and len(rows) > self.k:
            rows = random.Random(self.seed).sample(rows, self.k)
        compiled = clone_program(program)
        for path, predictor in _predictors(compiled):
            demos = [d for d in (_demo(row, predictor) for row in rows) if d is not None]
            if not demos and rows:
                raise ConfigError(
                    f"no training example has the outputs {list(predictor.signature.output_fields)} "
                    f"of predictor {path!r}; the examples have {sorted({**rows[0].inputs, **rows[0].labels})}"
                )
            predictor.demos = demos[: self.k]
        return compiled

    def __repr__(self) -> str:
        return f"LabeledFewShot(k={self.k})"


# (path, inputs, outputs) of every predictor call made while bootstrapping one example
_trace: ContextVar[list[tuple[str, dict[str, Any], dict[str, Any]]] | None] = ContextVar(
    "lmbench_fewshot_trace", default=None
)
_recording_classes: dict[type, type] = {}


def _recording(cls: type) -> type:
    """A subclass of the predictor class ``cls`` that notes each call's inputs and outputs."""
    found = _recording_classes.get(cls)
    if found is not None:
        return found

    def __call__(self: Any, **kwargs: Any) -> Any:
        prediction = cls.__call__(self, **kwargs)
        trace = _trace.get()
        if trace is not None:
            inputs = {k: v for k, v in kwargs.items() if k in self.signature.input_fields}
            trace.append((self._fewshot_path, inputs, prediction.to_dict()))
        return prediction

    made = type(cls.__name__, (cls,), {"__call__": __call__, "__module__": cls.__module__})
    _recording_classes[cls] = made
    return made


class BootstrapFewShot:
    """Demos made by running the program: see the module docstring.

    ``threshold``: a row passes when ``metric`` returns at least this (default: any truthy
    value). ``max_labeled``: labeled examples added after the bootstrapped demos, up to that
    many demos in all. ``max_rounds``: passes over the trainset while demos are missing.
    """

    def __init__(
        self,
        metric: Any,
        max_demos: int = 4,
        teacher: Any = None,
        *,
        threshold: float | None = None,
        max_labeled: int = 0,
        max_rounds: int = 1,
    ) -> None:
        if not isinstance(max_demos, int) or max_demos < 1:
            raise ConfigError(f"BootstrapFewShot(max_demos={max_demos!r}): at least 1")
        self.metric = resolve_metric(metric)
        self.max_demos = max_demos
        self.teacher = teacher
        self.threshold = threshold
        self.max_labeled = max_labeled
        self.max_rounds = max_rounds
        self.passed: list[Any] = []  # indexes of the training rows whose traces became demos

    def _passes(self, score: Any) -> bool:
        if self.threshold is None:
            return bool(score)
        return float(score) >= self.threshold

    def _teacher(self, program: Any) -> Any:
        teacher = clone_program(self.teacher if self.teacher is not None else program)
        for path, predictor in _predictors(teacher):
            predictor.__class__ = _recording(type(predictor))
            predictor._fewshot_path = path
        return teacher

    def _traces(
        self, teacher: Any, rows: list[Row]
    ) -> Iterator[tuple[Row, list[tuple[str, dict[str, Any], dict[str, Any]]]]]:
        """Each training row whose teacher prediction passed the metric, with its calls."""
        for row in rows:
            trace: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
            token = _trace.set(trace)
            try:
                prediction = teacher(**row.inputs)
                score = self.metric(row.example(), prediction)
            except ConfigError:
                raise
            except Exception:  # a failed example gives no demo
                continue
            finally:
                _trace.reset(token)
            if self._passes(score):
                yield row, trace

    def compile(self, program: Any, trainset: Any) -> Any:
        rows = load_rows(trainset, program)
        compiled = clone_program(program)
        student = dict(_predictors(compiled))
        teacher = self._teacher(program)
        unknown = {path for path, _ in _predictors(teacher)} - set(student)
        if unknown:
            raise ConfigError(
                f"the teacher has predictors {sorted(unknown)} that the program lacks; a teacher "
                "must have the program's structure"
            )
        demos: dict[str, list[dict[str, Any]]] = {path: [] for path in student}
        used: set[Any] = set()
        self.passed = []
        for _round in range(self.max_rounds):
            remaining = [row for row in rows if row.index not in used]
            for row, trace in self._traces(teacher, remaining):
                used.add(row.index)
                self.passed.append(row.index)
                for path, inputs, outputs in trace:
                    demos[path].append({**inputs, **outputs})
                if all(len(d) >= self.max_demos for d in demos.values()):
                    break
            if all(len(d) >= self.max_demos for d in demos.values()):
                break
        for path, predictor in student.items():
            chosen = demos[path][: self.max_demos]
            if self.max_labeled:
                extra = (_demo(row, predictor) for row in rows if row.index not in used)
                chosen += [d for d in extra if d is not None][
                    : max(0, self.max_labeled - len(chosen))
                ]
            predictor.demos = chosen
        return compiled

    def __repr__(self) -> str:
        return f"BootstrapFewShot(max_demos={self.max_demos}, passed={len(self.passed)})"
