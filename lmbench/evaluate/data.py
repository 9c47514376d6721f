"""Rows to run a program over: from a DataFrame, a list of Examples or dicts, or a CSV/JSONL file.

Columns named like the program's inputs are inputs; every other column is a label (what a
metric compares the outputs with). ``Example`` objects marked with ``with_inputs`` keep
their own split. pandas is imported only to read a DataFrame or a CSV file.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmbench.errors import ConfigError, InputError
from lmbench.primitives.example import Example

__all__ = ["Row", "input_names", "load_rows"]


@dataclass(frozen=True, slots=True)
class Row:
    """One example: its position, its inputs and its labels."""

    index: Any
    inputs: dict[str, Any]
    labels: dict[str, Any]

    def example(self) -> Example:
        """The row as an ``Example`` whose inputs are marked (what metrics receive)."""
        return Example({**self.inputs, **self.labels}).with_inputs(*self.inputs)


def input_names(program: Any) -> tuple[list[str], set[str]] | None:
    """The names a program takes and those of them it requires: its signature's inputs, else
    ``forward``'s parameters (those with a default are optional).

    None when they cannot be told (``**kwargs`` only): then a row's fields marked as inputs,
    or all of them, are passed.
    """
    signature = getattr(program, "signature", None)
    if signature is not None and hasattr(signature, "input_fields"):
        names = list(signature.input_fields)
        return names, set(names)
    target = getattr(program, "forward", program)
    try:
        parameters = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        ]
    except (TypeError, ValueError):
        return None
    if not parameters:
        return None
    return [p.name for p in parameters], {p.name for p in parameters if p.default is p.empty}


def _clean(value: Any) -> Any:
    """pandas' missing values (NaN) become None; numpy scalars become Python values."""
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _records_from_frame(frame: Any) -> tuple[list[Any], list[dict[str, Any]], list[str]]:
    columns = [str(c) for c in frame.columns]
    records = [
        {str(k): _clean(v) for k, v in record.items()} for record in frame.to_dict("records")
    ]
    return list(frame.index), records, columns


def _read_file(path: Path) -> tuple[list[Any], list[dict[str, Any]], list[str]]:
    if not path.is_file():
        raise ConfigError(f"data file {path} does not exist; pass a CSV or JSONL path")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        records = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}, line {number}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ConfigError(f"{path}, line {number}: expected a JSON object, got {record!r}")
            records.append(record)
        columns = list(dict.fromkeys(k for r in records for k in r))
        return list(range(len(records))), records, columns
    if suffix in (".csv", ".tsv"):
        import pandas as pd

        frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", keep_default_na=False)
        return _records_from_frame(frame)
    raise ConfigError(f"data file {path}: unknown format {suffix!r}; use .csv, .tsv or .jsonl")


def _records(data: Any) -> tuple[list[Any], list[Any], list[str] | None]:
    if isinstance(data, (str, Path)):
        return _read_file(Path(data))
    if hasattr(data, "to_dict") and hasattr(data, "columns") and hasattr(data, "index"):
        return _records_from_frame(data)
    if isinstance(data, Mapping) or not isinstance(data, Iterable):
        raise ConfigError(
            f"data={type(data).__name__}: pass a pandas DataFrame, a list of Examples or dicts, "
            "or the path of a CSV or JSONL file"
        )
    items = list(data)
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"data item {position} is a {type(item).__name__} ({item!r}); each item must be "
                "an Example or a dict of field values"
            )
    return list(range(len(items))), items, None


def load_rows(data: Any, program: Any, constants: Mapping[str, Any] | None = None) -> list[Row]:
    """The rows of ``data`` split into inputs and labels for ``program``; ``constants`` fill
    inputs the data lacks. A missing input is one error naming it and the columns there."""
    index, items, columns = _records(data)
    taken = input_names(program)
    given = dict(constants or {})
    rows = []
    for position, (key, item) in enumerate(zip(index, items, strict=True)):
        fields = {**given, **(item.to_dict() if isinstance(item, Example) else dict(item))}
        marked = item.input_keys if isinstance(item, Example) else None
        if taken is None:
            wanted, required = list(marked or fields), set()
        else:
            wanted = [name for name in taken[0] if name in fields or name in taken[1]]
            required = taken[1]
        missing = [name for name in wanted if name in required and name not in fields]
        if missing:
            noun = "column" if columns is not None else "field"
            present = columns if columns is not None else list(fields)
            where = "" if columns is not None else f" in item {position}"
            raise InputError(
                f"input {noun}{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))} missing{where}: the program takes inputs "
                f"{wanted}, the data has {present}. Rename the {noun}s or pass constants for them."
            )
        inputs = {name: fields[name] for name in wanted}
        labels = {k: v for k, v in fields.items() if k not in inputs and k not in given}
        rows.append(Row(key, inputs, labels))
    return rows
