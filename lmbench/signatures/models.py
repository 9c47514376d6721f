"""Signatures <-> pydantic models: output models for validation and JSON schemas, and typed programs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from lmbench.errors import SignatureError
from lmbench.signatures.fields import CONSTRAINTS, FieldSpec
from lmbench.signatures.signature import Signature

__all__ = ["build_output_model", "signature_from_models"]


def build_output_model(signature: Signature) -> type[BaseModel]:
    """A pydantic model with one field per output field (descriptions and constraints kept)."""
    definitions: dict[str, Any] = {}
    for spec in signature.output_fields.values():
        kwargs: dict[str, Any] = spec.constraint_dict()
        if spec.desc:
            kwargs["description"] = spec.desc
        definitions[spec.name] = (spec.annotation, Field(**kwargs))
    model_name = "".join(ch for ch in signature.name if ch.isalnum()) or "Output"
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{model_name}Output", __config__=ConfigDict(extra="ignore"), **definitions
    )


def _specs_from_model(model: type[BaseModel], kind: str) -> list[FieldSpec]:
    specs = []
    for name, info in model.model_fields.items():
        constraints = []
        for meta in info.metadata:
            for key in CONSTRAINTS:
                value = getattr(meta, key, None)
                if value is not None:
                    constraints.append((key, value))
        specs.append(
            FieldSpec(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                annotation=info.annotation,
                desc=info.description or "",
                constraints=tuple(sorted(constraints)),
            )
        )
    return specs


def signature_from_models(
    input_model: type[BaseModel], output_model: type[BaseModel], instructions: str | None = None
) -> Signature:
    """A Signature whose inputs and outputs are the fields of two pydantic models.

    Predictions of programs built on it convert to ``output_model`` instances.
    """
    for model in (input_model, output_model):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise SignatureError(f"typed() takes pydantic model classes, got {model!r}")
    overlap = set(input_model.model_fields) & set(output_model.model_fields)
    if overlap:
        raise SignatureError(
            f"input and output models share field names {sorted(overlap)}; rename one side"
        )
    specs = _specs_from_model(input_model, "input") + _specs_from_model(output_model, "output")
    doc = instructions or (output_model.__doc__ or "").strip() or None
    return Signature(
        specs,
        instructions=doc,
        name=f"{input_model.__name__}To{output_model.__name__}",
        output_type=output_model,
    )
