"""Signatures: what goes into an LM task and what comes out."""

from lmbench.signatures.fields import FieldSpec, InputField, OutputField
from lmbench.signatures.models import signature_from_models
from lmbench.signatures.parsing import parse_type
from lmbench.signatures.signature import Signature, ensure_signature

__all__ = [
    "FieldSpec",
    "InputField",
    "OutputField",
    "Signature",
    "ensure_signature",
    "parse_type",
    "signature_from_models",
]
