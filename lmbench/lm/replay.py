"""Record every LM response of a run to a file, and play them back with no key and no network.

    lmbench.replay.record("calls.jsonl")   # each response is appended as it arrives
    lmbench.replay.play("calls.jsonl")     # served back by request; a miss raises
    lmbench.replay.off()

Each also works as a ``with`` block that restores the previous mode on exit. Responses are
keyed with the cache key of their call (for an LM call: model name, messages, parameters,
rollout id), so a request plays back exactly when it is the same request; this module only
stores and finds them, the call layer (``lmbench.calls``) decides when. In play mode nothing reaches a
provider: a request with no recording raises ``ReplayMissError`` naming the model and the
start of the last message. Play mode sits in front of the response cache, so a replayed
notebook reads only the recording; record mode sees responses served by the cache too.
A replayed call reports the recorded usage, priced as live, and counts against budgets, so a
played back run shows the costs of the recorded one; its history ``cache`` is "replay".

The file is JSON Lines, one ``{"key", "model", "prompt", "response"}`` object per response,
later lines winning over earlier ones with the same key. Only the response (texts, usage,
model, finish reason, redacted metadata) and a short preview of the prompt are written,
never the request's parameters, headers or keys.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from lmbench.errors import ConfigError, ReplayMissError
from lmbench.lm.stored import Codec

__all__ = ["ReplayControl", "ReplayMode", "Replayer", "active", "replay"]

ReplayMode = Literal["record", "play"]

R = TypeVar("R")


class Replayer:
    """One recording file in record or play mode."""

    def __init__(self, path: str | Path, mode: ReplayMode) -> None:
        self.path = Path(path).expanduser()
        self.mode = mode
        self._lock = threading.Lock()
        self._responses: dict[str, dict[str, Any]] = {}
        if mode == "play" and not self.path.exists():
            raise ConfigError(
                f"replay file {self.path} does not exist: record one first with "
                f"lmbench.replay.record({str(self.path)!r}) (or %lmbench replay record {self.path})"
            )
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    self._responses[item["key"]] = item
                except (ValueError, KeyError, TypeError):
                    raise ConfigError(
                        f"replay file {self.path} line {number} is not a recorded response; "
                        "record the file again (or remove that line)"
                    ) from None

    def __len__(self) -> int:
        return len(self._responses)

    # -- play ----------------------------------------------------------------------------
    def response(self, key: str, codec: Codec[R], *, name: str, preview: str) -> R:
        """The response recorded under ``key``; ``ReplayMissError`` when there is none.

        ``name`` (the model's) and ``preview`` (the start of the request) make the error
        recognisable; ``codec`` reads the kind of response stored.
        """
        item = self._responses.get(key)
        if item is None:
            raise ReplayMissError(
                f"no recording in {self.path} for a call to {name}: {preview!r}. "
                "The request differs from every recorded one (prompt, model or parameters "
                f"changed). Record it again with lmbench.replay.record({str(self.path)!r}) "
                "and a configured model, or turn replay off with lmbench.replay.off()."
            )
        data = dict(item["response"])
        data["metadata"] = {**(data.get("metadata") or {}), "replayed_from": str(self.path)}
        return codec.decode(data)

    # -- record ----------------------------------------------------------------------------
    def save(self, key: str, response: R, codec: Codec[R], *, name: str, preview: str) -> None:
        """Append ``response`` under ``key`` as ``codec`` stores it (no raw provider data,
        metadata redacted) to the file."""
        data = codec.encode(response)
        if isinstance(data.get("metadata"), dict):
            data["metadata"].pop("replayed_from", None)
        item = {"key": key, "model": name, "prompt": preview, "response": data}
        line = json.dumps(item, ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            self._responses[key] = item

    def __repr__(self) -> str:
        return f"<Replayer {self.mode} {self.path} ({len(self)} responses)>"


_active: Replayer | None = None
_switch_lock = threading.Lock()


def active() -> Replayer | None:
    """The replayer in force for the process, if any (read by the LM call seam)."""
    return _active


class _Switch:
    """The result of ``record``/``play``/``off``: the new state, usable as a ``with`` block."""

    def __init__(self, replayer: Replayer | None, previous: Replayer | None) -> None:
        self.replayer = replayer
        self._previous = previous

    def __enter__(self) -> Replayer | None:
        return self.replayer

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _set(self._previous)

    def __repr__(self) -> str:
        return f"<replay {'off' if self.replayer is None else self.replayer}>"


def _set(replayer: Replayer | None) -> _Switch:
    global _active
    with _switch_lock:
        previous, _active = _active, replayer
    return _Switch(replayer, previous)


class ReplayControl:
    """``lmbench.replay``: switches the process between live, record and play."""

    def record(self, path: str | Path, *, overwrite: bool = False) -> _Switch:
        """Save every LM response from now on to ``path`` (appending, unless ``overwrite``)."""
        target = Path(path).expanduser()
        if overwrite and target.exists():
            target.unlink()
        return _set(Replayer(target, "record"))

    def play(self, path: str | Path) -> _Switch:
        """Serve LM calls from ``path`` only; a call with no recording raises ``ReplayMissError``."""
        return _set(Replayer(path, "play"))

    def off(self) -> _Switch:
        """Back to live calls."""
        return _set(None)

    @property
    def mode(self) -> Literal["off", "record", "play"]:
        return "off" if _active is None else _active.mode

    @property
    def path(self) -> Path | None:
        return None if _active is None else _active.path

    def __repr__(self) -> str:
        return f"<lmbench.replay {self.mode}{'' if _active is None else f' {_active.path}'}>"


replay = ReplayControl()
