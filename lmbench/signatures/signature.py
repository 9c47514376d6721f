"""``Signature``: what goes in and what comes out, as an immutable value.

Two ways to write one::

    qa = Signature("question, context: list[str] -> answer, confidence: float")

    class QA(Signature):
        '''Answer the question from the context.'''          # the instructions
        question: str = InputField()
        context: list[str] = InputField(desc="passages")
        answer: str = OutputField()
        confidence: float = OutputField(ge=0, le=1)

A class body builds a ``Signature`` value (``QA`` *is* a Signature, not a class), so every
signature supports the same methods. Changing one returns a new one; equality and hashing
are by content (instructions and fields).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from lmbench.display import RichDisplay
from lmbench.errors import SignatureError
from lmbench.signatures.checks import check_field
from lmbench.signatures.fields import (
    FieldSpec,
    OutputField,
    _FieldMarker,
    alias_pairs,
    qualitative_words,
)
from lmbench.signatures.parsing import parse_signature_string, parse_type

__all__ = ["Signature", "ensure_signature"]


class _SignatureMeta(type):
    """Makes ``class X(Signature): ...`` evaluate to a Signature value built from the body."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if not any(isinstance(b, _SignatureMeta) for b in bases):
            return super().__new__(mcs, name, bases, namespace)
        return Signature._from_class_body(name, namespace)


class Signature(RichDisplay, metaclass=_SignatureMeta):
    """Inputs, outputs and instructions of an LM task."""

    __slots__ = ("_fields", "_inputs", "_instructions", "_name", "_outputs", "output_type")

    def __init__(
        self,
        spec: str | Iterable[FieldSpec],
        instructions: str | None = None,
        *,
        types: Mapping[str, Any] | None = None,
        name: str | None = None,
        output_type: type | None = None,
    ) -> None:
        if isinstance(spec, str):
            inputs, outputs = parse_signature_string(spec, types)
            specs = [FieldSpec(n, "input", a) for n, a in inputs]
            specs += [FieldSpec(n, "output", a) for n, a in outputs]
        else:
            specs = list(spec)
        self._check(specs)
        object.__setattr__(self, "_fields", tuple(specs))
        # Each call reads the fields of its kind several times: split them once.
        object.__setattr__(self, "_inputs", {f.name: f for f in specs if f.kind == "input"})
        object.__setattr__(self, "_outputs", {f.name: f for f in specs if f.kind == "output"})
        object.__setattr__(self, "_name", name or "Signature")
        object.__setattr__(self, "_instructions", instructions or "")
        object.__setattr__(self, "output_type", output_type)

    # -- construction helpers -------------------------------------------------------------

    @staticmethod
    def _check(specs: list[FieldSpec]) -> None:
        names = [s.name for s in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SignatureError(f"field(s) {duplicates} appear more than once")
        if not any(s.kind == "output" for s in specs):
            raise SignatureError("a signature needs at least one output field")
        for s in specs:
            if not s.name.isidentifier() or s.name.startswith("_"):
                raise SignatureError(
                    f"field name {s.name!r} must be an identifier not starting with '_'"
                )
            check_field(s)

    @classmethod
    def _from_class_body(cls, name: str, namespace: dict[str, Any]) -> Signature:
        annotations: dict[str, Any] = dict(namespace.get("__annotations__", {}))
        if not annotations and "__annotate__" in namespace:  # Python 3.14 lazy annotations
            annotations = namespace["__annotate__"](1)
        specs: list[FieldSpec] = []
        for field_name, annotation in annotations.items():
            marker = namespace.get(field_name)
            if isinstance(annotation, str):
                annotation = _resolve_annotation(annotation, namespace, field_name, name)
            if not isinstance(marker, _FieldMarker):
                raise SignatureError(
                    f"field {field_name!r} of {name} must be declared with InputField() or OutputField()"
                )
            specs.append(marker.to_spec(field_name, annotation))
        stray = [
            k for k, v in namespace.items() if isinstance(v, _FieldMarker) and k not in annotations
        ]
        if stray:
            raise SignatureError(
                f"field(s) {stray} of {name} need a type annotation, e.g. `{stray[0]}: str`"
            )
        doc = namespace.get("__doc__")
        return cls(specs, instructions=_clean_doc(doc) if doc else None, name=name)

    # -- reading ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def instructions(self) -> str:
        """The task description; a default sentence naming the fields when none was given."""
        if self._instructions:
            return self._instructions
        ins = ", ".join(f"`{f.name}`" for f in self.input_fields.values())
        outs = ", ".join(f"`{f.name}`" for f in self.output_fields.values())
        return (
            f"Given the fields {ins}, produce the fields {outs}."
            if ins
            else f"Produce the fields {outs}."
        )

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self._fields}

    @property
    def input_fields(self) -> dict[str, FieldSpec]:
        return dict(self._inputs)

    @property
    def output_fields(self) -> dict[str, FieldSpec]:
        return dict(self._outputs)

    # -- changing (each returns a new Signature) ----------------------------------------------

    def _with(self, specs: Iterable[FieldSpec], **overrides: Any) -> Signature:
        return Signature(
            list(specs),
            instructions=overrides.get("instructions", self._instructions),
            name=overrides.get("name", self._name),
            output_type=overrides.get("output_type", self.output_type),
        )

    def with_instructions(self, instructions: str) -> Signature:
        return self._with(self._fields, instructions=instructions)

    def with_name(self, name: str) -> Signature:
        return self._with(self._fields, name=name)

    def _new_field(self, name: str, field: Any, annotation: Any) -> FieldSpec:
        if isinstance(field, FieldSpec):
            return field
        marker = field if isinstance(field, _FieldMarker) else OutputField()
        return marker.to_spec(name, annotation)

    def append(self, name: str, field: Any = None, annotation: Any = str) -> Signature:
        """Add a field after the others of its kind (``field`` is InputField()/OutputField())."""
        new = self._new_field(name, field, annotation)
        specs = list(self._fields)
        last = max((i for i, s in enumerate(specs) if s.kind == new.kind), default=len(specs) - 1)
        specs.insert(last + 1, new)
        return self._with(specs)

    def prepend(self, name: str, field: Any = None, annotation: Any = str) -> Signature:
        """Add a field before the others of its kind."""
        new = self._new_field(name, field, annotation)
        specs = list(self._fields)
        first = next((i for i, s in enumerate(specs) if s.kind == new.kind), len(specs))
        specs.insert(first, new)
        return self._with(specs)

    def delete(self, name: str) -> Signature:
        self._require(name)
        return self._with(s for s in self._fields if s.name != name)

    def with_updated_fields(self, name: str, **changes: Any) -> Signature:
        """Change a field's ``desc``, ``prefix``, ``annotation`` (or ``type_``), constraints,
        ``qualitative`` words or ``aliases``."""
        spec = self._require(name)
        if "type_" in changes:
            changes["annotation"] = changes.pop("type_")
        if "qualitative" in changes:
            changes["qualitative"] = qualitative_words(changes["qualitative"])
        if "aliases" in changes:
            changes["aliases"] = alias_pairs(changes["aliases"])
        allowed = {"desc", "prefix", "annotation", "constraints", "qualitative", "aliases"}
        unknown = set(changes) - allowed
        if unknown:
            raise SignatureError(
                f"cannot update {sorted(unknown)} of field {name!r}; can update {sorted(allowed)}"
            )
        updated = spec.replace(**changes)
        return self._with(updated if s.name == name else s for s in self._fields)

    def _require(self, name: str) -> FieldSpec:
        for s in self._fields:
            if s.name == name:
                return s
        raise SignatureError(
            f"signature {self} has no field {name!r}; fields: {[s.name for s in self._fields]}"
        )

    # -- schemas -------------------------------------------------------------------------------

    def output_model(self) -> type:
        """A pydantic model of the output fields (cached), used to validate and to ask for JSON."""
        return _output_model(self)

    def output_schema(self) -> dict[str, Any]:
        """JSON schema of the output fields, for structured output."""
        return _output_schema(self)

    # -- value semantics -----------------------------------------------------------------------

    def _key(self) -> tuple[Any, ...]:
        return (self._instructions, self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            "Signature is immutable: use with_instructions/append/delete/... for a new one"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by content (Dask tasks carry signatures); the value is immutable."""
        return (
            _rebuild,
            (list(self._fields), self._instructions, self._name, self.output_type),
        )

    def __str__(self) -> str:
        ins = ", ".join(str(f) for f in self.input_fields.values())
        outs = ", ".join(str(f) for f in self.output_fields.values())
        return f"{ins} -> {outs}"

    def __repr__(self) -> str:
        text = f"{self._name}({self})"
        if self._instructions:
            first = self._instructions.strip().splitlines()[0]
            text += f"\n    instructions={first[:80]!r}"
        return text


def _rebuild(
    specs: list[FieldSpec], instructions: str, name: str, output_type: type | None
) -> Signature:
    return Signature(specs, instructions, name=name, output_type=output_type)


def _resolve_annotation(text: str, namespace: dict[str, Any], field_name: str, owner: str) -> Any:
    """Resolve a string annotation (``from __future__ import annotations``) in the defining module."""
    module = sys.modules.get(namespace.get("__module__", ""))
    scope = dict(vars(module)) if module is not None else {}
    try:
        return parse_type(text, scope)
    except SignatureError as exc:
        raise SignatureError(
            f"field {field_name!r} of {owner}: {exc}. Types named in a class signature must be "
            "defined at module level (or pass a real type, not a string)"
        ) from None


def _clean_doc(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)


@functools.lru_cache(maxsize=512)
def _output_model(signature: Signature) -> type:
    from lmbench.signatures.models import build_output_model  # models builds on signature

    return build_output_model(signature)


@functools.lru_cache(maxsize=512)
def _output_schema(signature: Signature) -> dict[str, Any]:
    return signature.output_model().model_json_schema()


def ensure_signature(value: Signature | str, types: Mapping[str, Any] | None = None) -> Signature:
    """Accept a Signature or a signature string."""
    if isinstance(value, Signature):
        return value
    if isinstance(value, str):
        return Signature(value, types=types)
    raise SignatureError(
        f"expected a Signature or a string like 'question -> answer', got {type(value).__name__}"
    )
