"""What travels to a Dask worker, and how the worker rebuilds it.

A task payload holds the row task (the program's structure and code, the metric), the
program's JSON state (demos, instructions, config: what ``save`` writes, which the worker
loads into the structure) and the settings in force (LM, adapter, cache,
temperature, max_tokens, retries, timeout, rollout id, the disk cache folder, the prices
set with ``set_price``). It is
written by ``dumps``, a cloudpickle pickler that never writes an LM object: every LM in the
payload (a program's, a judge's, the configured one) is replaced by its *spec*:

- a remote model: its ``provider/model`` name, base URL (without a key in its userinfo or
  query string) and retry count; the worker resolves the name again, so its key comes from
  the worker's environment;
- the local model: its name and options;
- a ``ScriptedLM``: its script (so tests and notebooks run on Dask offline);
- any other LM: what its ``to_spec()`` returns (a dict with ``name`` and keyword options).

HTTP clients and ``Secret`` objects refuse to be pickled, so no key can slip in through an
object graph either. The worker keeps one LM per spec, so its HTTP connections are reused
across tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle

from lmbench.errors import ConfigError
from lmbench.evaluate.executors.events import spec_key
from lmbench.lm.base import BaseLM
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.predict import Predict
from lmbench.observe.cost import custom_prices, set_price
from lmbench.settings import context, current

__all__ = ["build_lm", "dumps", "lm_spec", "loads_task", "pack_task", "worker_settings"]

# settings sent to workers; callbacks and the history collector stay with the driver (the
# workers' events and entries come back to them: see ``events`` and ``dask``)
_SETTINGS = (
    "lm",
    "adapter",
    "cache",
    "rollout_id",
    "run_id",
    "temperature",
    "max_tokens",
    "max_retries",
    "timeout",
    "save_raw",
    "debug_parse",
)


def lm_spec(lm: Any) -> dict[str, Any]:
    """How to build ``lm`` again elsewhere, without its clients or its key."""
    if isinstance(lm, ScriptedLM):
        return {
            "kind": "scripted",
            "script": lm.script,
            "model": lm.model,
            "repeat": lm.repeat,
            "default": lm.default,
            "chunk_size": lm.chunk_size,
            "cacheable": lm.cacheable,
        }
    to_spec = getattr(lm, "to_spec", None)
    if callable(to_spec):
        spec = dict(to_spec())
        return {"kind": "name", "name": spec.pop("name"), "options": spec}
    provider_config = getattr(lm, "provider_config", None)
    if provider_config is not None:  # a RemoteLM: name, base URL, retries; never the key
        options: dict[str, Any] = {"base_url": provider_config.base_url}
        retry = getattr(lm, "retry", None)
        if retry is not None:
            options["max_retries"] = retry.max_retries
        return {"kind": "name", "name": lm.name, "options": options}
    if getattr(lm, "provider", None) == "local":
        options = {
            key: getattr(lm, key)
            for key in ("n_ctx", "n_threads", "max_tokens", "temperature")
            if hasattr(lm, key)
        }
        return {"kind": "name", "name": lm.name, "options": options}
    raise ConfigError(
        f"the LM {lm!r} cannot travel to Dask workers: give it by its 'provider/model' name, "
        "or give its class a to_spec() method returning {'name': 'provider/model', **options}"
    )


_built: dict[str, Any] = {}
_built_lock = threading.Lock()


def build_lm(spec: dict[str, Any]) -> Any:
    """The LM a spec describes. Named LMs are built once per process and shared."""
    if spec["kind"] == "scripted":
        fields = {k: v for k, v in spec.items() if k not in ("kind", "cacheable")}
        lm = ScriptedLM(fields.pop("script"), **fields)
        lm.cacheable = spec.get("cacheable", False)
        return lm
    from lmbench.lm.registry import resolve_lm

    key = json.dumps(spec, sort_keys=True, default=str)
    with _built_lock:
        found = _built.get(key)
        if found is None:
            found = _built[key] = resolve_lm(spec["name"], **spec.get("options", {}))
    return found


def _refuse(obj: Any) -> None:
    raise ConfigError(
        f"a {type(obj).__name__} cannot be sent to Dask workers (HTTP clients and keys stay "
        "in this process); give LMs by name or LM object, and keys through the workers' "
        "environment"
    )


_REFUSED: tuple[type, ...] = ()


def _refused_types() -> tuple[type, ...]:
    global _REFUSED
    if not _REFUSED:
        import httpx

        from lmbench.secrets import Secret

        _REFUSED = (httpx.Client, httpx.AsyncClient, Secret)
    return _REFUSED


def _blank(cls: type) -> Any:
    return cls.__new__(cls)


class _TaskPickler(cloudpickle.Pickler):
    """cloudpickle, with every LM written as its spec, clients and keys refused, and the
    program's predictors (ids in ``stateful``) written without their demos: those travel
    in the program's JSON state."""

    def __init__(
        self,
        file: Any,
        stateful: frozenset[int] = frozenset(),
        lms: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(file, protocol=5)
        self.stateful = stateful
        self.lms = lms if lms is not None else {}

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseLM) and not isinstance(obj, type):
            spec = lm_spec(obj)
            self.lms.setdefault(spec_key(spec), obj)
            return build_lm, (spec,)
        if isinstance(obj, _refused_types()):
            _refuse(obj)
        if id(obj) in self.stateful and isinstance(obj, Predict):
            return _blank, (type(obj),), {**vars(obj), "demos": []}
        return super().reducer_override(obj)


def dumps(
    value: Any, stateful: frozenset[int] = frozenset(), lms: dict[str, Any] | None = None
) -> bytes:
    """``value`` pickled for a worker; ``lms``, when given, gets each LM written, by spec key
    (so the driver can tell callbacks its own LM objects again)."""
    buffer = io.BytesIO()
    _TaskPickler(buffer, stateful, lms).dump(value)
    return buffer.getvalue()


def _settings_spec() -> dict[str, Any]:
    from lmbench.lm.cache import get_cache

    settings = current()
    spec = {name: getattr(settings, name) for name in _SETTINGS}
    directory = get_cache().directory
    spec["cache_directory"] = str(directory) if directory is not None else None
    spec["prices"] = custom_prices()
    return spec


def pack_task(task: Any, lms: dict[str, Any] | None = None) -> bytes:
    """The payload of a run: the row task, the program's JSON state, the settings in force
    (``lms``: see ``dumps``)."""
    program = task.program
    dump_state = getattr(program, "dump_state", None)
    state = json.dumps(dump_state(), default=str) if callable(dump_state) else None
    predictors = getattr(program, "named_predictors", None)
    stateful = (
        frozenset(id(p) for _, p in predictors())
        if state is not None and predictors
        else frozenset()
    )
    return dumps({"task": task, "state": state, "settings": _settings_spec()}, stateful, lms)


_unpacked: dict[str, tuple[Any, dict[str, Any]]] = {}
_unpacked_lock = threading.Lock()
_KEEP = 4  # payloads kept per worker: one per recent run


def loads_task(payload: bytes) -> tuple[Any, dict[str, Any]]:
    """The row task and settings of ``payload``, unpacked once per worker process."""
    key = hashlib.sha256(payload).hexdigest()
    with _unpacked_lock:
        found = _unpacked.get(key)
        if found is None:
            data = cloudpickle.loads(payload)
            task = data["task"]
            if data["state"] is not None:
                task.program.load_state(json.loads(data["state"]))
            found = (task, data["settings"])
            while len(_unpacked) >= _KEEP:
                _unpacked.pop(next(iter(_unpacked)))
            _unpacked[key] = found
    return found


_cache_switch = threading.Lock()


@contextlib.contextmanager
def worker_settings(
    spec: dict[str, Any], history: Any, callbacks: tuple[Any, ...] = ()
) -> Iterator[None]:
    """Run under the driver's settings, recording into ``history`` and telling ``callbacks``
    (the recorder of events for the driver's); the disk cache is the driver's folder when
    this worker can write to it (a shared filesystem)."""
    folder = spec.get("cache_directory")
    if folder is not None:
        from lmbench.lm.cache import get_cache, reset_cache

        with _cache_switch:  # partitions running side by side switch it once
            if get_cache().directory != Path(folder):
                with contextlib.suppress(OSError):
                    Path(folder).mkdir(parents=True, exist_ok=True)
                    reset_cache(folder)
    for name, (input_rate, output_rate, cached_rate) in spec.get("prices", {}).items():
        set_price(name, input=input_rate, output=output_rate, cached_input=cached_rate)
    changes = {name: spec[name] for name in _SETTINGS if name in spec}
    if callbacks:  # with any the worker's own settings have
        changes["callbacks"] = (*current().callbacks, *callbacks)
    with context(**changes, history=history):
        yield
