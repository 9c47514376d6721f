"""``Example``: a record of field values, with some marked as inputs (for demos and datasets)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lmbench.display import RichDisplay

__all__ = ["Example"]


class Example(RichDisplay, Mapping[str, Any]):
    """Field values by attribute and key. ``with_inputs("question")`` marks which are inputs."""

    __slots__ = ("_data", "_input_keys")

    def __init__(self, data: Mapping[str, Any] | None = None, /, **fields: Any) -> None:
        merged = dict(data or {})
        merged.update(fields)
        object.__setattr__(self, "_data", merged)
        object.__setattr__(self, "_input_keys", None)

    def with_inputs(self, *names: str) -> Example:
        missing = [n for n in names if n not in self._data]
        if missing:
            raise KeyError(
                f"with_inputs names field(s) {missing} that this example lacks; it has {list(self._data)}"
            )
        copy = Example(self._data)
        object.__setattr__(copy, "_input_keys", frozenset(names))
        return copy

    @property
    def input_keys(self) -> frozenset[str] | None:
        return self._input_keys

    def inputs(self) -> Example:
        if self._input_keys is None:
            raise ValueError(
                "this Example has no inputs marked: call .with_inputs('field', ...) first"
            )
        return Example({k: v for k, v in self._data.items() if k in self._input_keys})

    def labels(self) -> Example:
        keys = self._input_keys or frozenset()
        return Example({k: v for k, v in self._data.items() if k not in keys})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(
                f"Example has no field {name!r}; fields: {list(self._data)}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Example is immutable: build a new one with Example(old, field=value)")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Example):
            return self._data == other._data and self._input_keys == other._input_keys
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._data.items())))

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._data.items())
        marked = f" inputs={sorted(self._input_keys)}" if self._input_keys is not None else ""
        return f"Example({body}){marked}"
