"""``Citations`` output fields: filled from the provider's citation blocks, not from the text.

A signature may declare ``citations: Citations`` among its outputs. The adapter never sees that
field (the model is not asked to write it); after the call, ``Predict`` fills it with the
passages the model cited (Anthropic citations of ``Document(..., citations=True)`` inputs), or
an empty ``Citations`` when the provider cites nothing.
"""

from __future__ import annotations

from typing import Any

from lmbench.signatures.signature import Signature

__all__ = ["citation_fields", "fill_citations", "without_citations"]


def citation_fields(signature: Signature) -> tuple[str, ...]:
    """Names of the output fields typed ``Citations``."""
    from lmbench.multimodal.citations import Citations

    return tuple(
        name for name, spec in signature.output_fields.items() if spec.annotation is Citations
    )


def without_citations(signature: Signature) -> Signature:
    """``signature`` less its ``Citations`` outputs (itself when it has none)."""
    for name in citation_fields(signature):
        signature = signature.delete(name)
    return signature


def fill_citations(completions: list[dict[str, Any]], names: tuple[str, ...], node: Any) -> None:
    """Set each ``Citations`` field of every completion from the LM calls under ``node``."""
    from lmbench.multimodal.citations import Citations

    found = Citations.from_prediction(type("Cited", (), {"call": node})())
    for completion in completions:
        for name in names:
            completion[name] = Citations(list(found.items))
