"""Metrics for ``lmbench.evaluate``: ``metric(example, prediction) -> float | bool``.

Built in::

    metrics.exact_match      normalised text equality (case, punctuation, articles, spaces)
    metrics.f1               token-level F1 (SQuAD style)
    metrics.contains         the expected text appears in the output (normalised)
    metrics.numeric          numbers within a tolerance (``numeric.within(rel=0.05)``)
    metrics.judge(...)       an LM grades the output; its calls are recorded and priced

Each compares the example's label fields with the prediction's fields of the same name.
``exact_match.on("answer", expected="gold")`` compares the output ``answer`` with the label
``gold`` instead; with several fields compared, the score is their mean.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lmbench.errors import ConfigError
from lmbench.modules.predict import Predict
from lmbench.signatures.signature import Signature

__all__ = [
    "FieldMetric",
    "Judge",
    "JudgeMetric",
    "NumericMetric",
    "contains",
    "exact_match",
    "f1",
    "judge",
    "metric_name",
    "normalize",
    "numeric",
    "resolve_metric",
    "to_number",
]

Metric = Callable[[Any, Any], "float | bool"]

_ARTICLES = frozenset({"a", "an", "the"})
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?")


def normalize(value: Any) -> str:
    """Lower case, no punctuation, no articles (a, an, the), single spaces."""
    words = str(value).lower().translate(_PUNCTUATION).split()
    return " ".join(word for word in words if word not in _ARTICLES)


def _fields_of(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return {}


def _labels_of(example: Any) -> Mapping[str, Any]:
    """An example's label fields: those not marked as inputs."""
    inputs = getattr(example, "input_keys", None)
    if inputs:
        return {k: v for k, v in example.items() if k not in inputs}
    return _fields_of(example)


@dataclass(frozen=True)
class FieldMetric:
    """A metric that compares output fields with label fields, one pair at a time."""

    name: str
    compare: Callable[[Any, Any], float]
    field: str | None = None
    expected: str | None = None

    def on(self, field: str, *, expected: str | None = None) -> FieldMetric:
        """The same metric on the output ``field`` against the label ``expected`` (default:
        the label of the same name)."""
        return replace(self, field=field, expected=expected or field)

    def pairs(self, example: Any, prediction: Any) -> list[tuple[Any, Any]]:
        return self._pairs(_labels_of(example), _fields_of(prediction))

    def _pairs(
        self, labels: Mapping[str, Any], outputs: Mapping[str, Any]
    ) -> list[tuple[Any, Any]]:
        if self.field is not None:
            expected = self.expected or self.field
            if expected not in labels:
                raise ConfigError(
                    f"metric {self.name}: the example has no label {expected!r}; "
                    f"its labels are {sorted(labels)}"
                )
            return [(outputs.get(self.field), labels[expected])]
        shared = [name for name in labels if name in outputs]
        if not shared:
            raise ConfigError(
                f"metric {self.name}: no label is named like an output field (labels "
                f"{sorted(labels)}, outputs {sorted(outputs)}); "
                f"use {self.name}.on('output_field', expected='label_column')"
            )
        return [(outputs[name], labels[name]) for name in shared]

    def __call__(self, example: Any, prediction: Any) -> float:
        return self.score_labels(_labels_of(example), _fields_of(prediction))

    def score_labels(self, labels: Mapping[str, Any], outputs: Mapping[str, Any]) -> float:
        """The score from the label and output fields themselves (what evaluation calls)."""
        pairs = self._pairs(labels, outputs)
        return sum(self.compare(got, want) for got, want in pairs) / len(pairs)

    def __repr__(self) -> str:
        target = f".on({self.field!r}, expected={self.expected!r})" if self.field else ""
        return f"metrics.{self.name}{target}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _exact(got: Any, want: Any) -> float:
    if _missing(got):
        return 0.0
    return float(normalize(got) == normalize(want))


def _token_f1(got: Any, want: Any) -> float:
    if _missing(got):
        return 0.0
    predicted, gold = normalize(got).split(), normalize(want).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _contains(got: Any, want: Any) -> float:
    if _missing(got):
        return 0.0
    return float(normalize(want) in normalize(got))


def to_number(value: Any) -> float | None:
    """A number from a value: numbers as they are, else the first number in its text."""
    if isinstance(value, bool) or _missing(value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    for match in _NUMBER.finditer(str(value)):
        text = match.group().replace(",", "")
        if text and any(ch.isdigit() for ch in text):
            return float(text)
    return None


@dataclass(frozen=True)
class _Closeness:
    rel: float = 1e-6
    abs: float = 1e-9

    def __call__(self, got: Any, want: Any) -> float:
        a, b = to_number(got), to_number(want)
        if a is None or b is None:
            return 0.0
        return float(math.isclose(a, b, rel_tol=self.rel, abs_tol=self.abs))


@dataclass(frozen=True)
class NumericMetric(FieldMetric):
    """Numbers equal within a tolerance; ``numeric.within(rel=0.05, abs=0.5)`` widens it."""

    def within(self, *, rel: float = 1e-6, abs: float = 1e-9) -> NumericMetric:
        if rel < 0 or abs < 0:
            raise ConfigError(f"numeric.within(rel={rel!r}, abs={abs!r}): tolerances must be >= 0")
        return replace(self, compare=_Closeness(rel, abs))


exact_match = FieldMetric("exact_match", _exact)
f1 = FieldMetric("f1", _token_f1)
contains = FieldMetric("contains", _contains)
numeric = NumericMetric("numeric", _Closeness())

_BUILTIN: dict[str, Metric] = {
    "exact_match": exact_match,
    "em": exact_match,
    "f1": f1,
    "contains": contains,
    "numeric": numeric,
}

_JUDGE_INSTRUCTIONS = (
    "Judge whether the answer is correct given the inputs and the expected answer. "
    "Give a score from 0 (wrong) to 1 (fully correct)."
)


class JudgeMetric:
    """An LM-as-judge metric; build it with ``metrics.judge(...)``.

    The judge is a ``Predict`` over ``inputs, expected, output -> score: float`` (or your
    own signature, whose first output is the score). Its LM calls go through the ordinary
    call path, so they are cached, recorded in history and priced like any other call.
    """

    def __init__(self, signature: Any = None, *, lm: Any = None, adapter: Any = None) -> None:
        if signature is None or (isinstance(signature, str) and "->" not in signature):
            signature = Signature(
                "inputs: str, expected: str, output: str -> score: float",
                signature or _JUDGE_INSTRUCTIONS,
            )
        self.predict = Judge(signature, lm=lm, adapter=adapter)
        self.score_field = next(iter(self.predict.signature.output_fields))

    def _inputs(self, example: Any, prediction: Any) -> dict[str, Any]:
        fields = self.predict.signature.input_fields
        outputs = _fields_of(prediction)
        labels = _labels_of(example)
        everything = {**_fields_of(example), **outputs}
        if set(fields) == {"inputs", "expected", "output"}:
            given = {k: v for k, v in _fields_of(example).items() if k not in labels}
            return {
                "inputs": _lines(given),
                "expected": _lines(labels),
                "output": _lines(outputs),
            }
        missing = [name for name in fields if name not in everything]
        if missing:
            raise ConfigError(
                f"judge signature inputs {missing} are neither example fields nor outputs; "
                f"available: {sorted(everything)}"
            )
        return {name: everything[name] for name in fields}

    def __call__(self, example: Any, prediction: Any) -> float:
        verdict = self.predict(**self._inputs(example, prediction))[self.score_field]
        if isinstance(verdict, bool):
            return float(verdict)
        number = to_number(verdict)
        if number is None:
            raise ConfigError(f"judge answered {verdict!r}, which is not a score")
        return min(1.0, max(0.0, number))

    def __repr__(self) -> str:
        return f"metrics.judge({self.predict.signature})"


def _lines(values: Mapping[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in values.items())


class Judge(Predict):
    """The judge's predictor: a ``Predict`` named ``Judge`` in history and traces."""


def judge(signature: Any = None, *, lm: Any = None, adapter: Any = None) -> JudgeMetric:
    """An LM-as-judge metric. ``signature``: instructions for the default judge signature,
    or a full signature whose inputs are example/output fields and whose first output is
    the score (bool or 0..1). ``lm``: the judging model (default: the one in force)."""
    return JudgeMetric(signature, lm=lm, adapter=adapter)


def metric_name(metric: Any) -> str:
    if isinstance(metric, FieldMetric):
        return repr(metric).removeprefix("metrics.")
    if isinstance(metric, JudgeMetric):
        return "judge"
    return getattr(metric, "__name__", type(metric).__name__)


def resolve_metric(metric: Any) -> Metric:
    """A metric object from a callable or a built-in name (``"exact_match"``, ``"f1"``...)."""
    if isinstance(metric, str):
        found = _BUILTIN.get(metric)
        if found is None:
            raise ConfigError(
                f"unknown metric {metric!r}; built-in metrics: {sorted(_BUILTIN)}, "
                "or pass a function (example, prediction) -> float | bool"
            )
        return found
    if not callable(metric):
        raise ConfigError(
            f"metric={metric!r} is not callable: pass a function (example, prediction) -> "
            f"float | bool, or a name among {sorted(_BUILTIN)}"
        )
    return metric
