from __future__ import annotations

import asyncio
import threading

import pytest

import lmbench
from lmbench.errors import ConfigError
from lmbench.lm import ScriptedLM
from lmbench.settings import configure, context, current, get_lm


def test_configure_sets_process_settings() -> None:
    lm = ScriptedLM(["x"])
    configure(lm=lm, temperature=0.3)
    assert current().lm is lm
    assert current().temperature == 0.3
    assert get_lm() is lm


def test_context_overrides_only_inside_the_block() -> None:
    configure(temperature=0.1)
    with context(temperature=0.9) as inner:
        assert inner.temperature == 0.9
        assert current().temperature == 0.9
    assert current().temperature == 0.1


def test_context_is_per_thread() -> None:
    seen: dict[str, float | None] = {}
    ready = threading.Event()
    release = threading.Event()

    def worker() -> None:
        ready.set()
        release.wait(5)
        seen["thread"] = current().temperature

    thread = threading.Thread(target=worker)
    thread.start()
    ready.wait(5)
    with context(temperature=0.7):
        release.set()
        thread.join(5)
        seen["main"] = current().temperature
    assert seen == {"thread": None, "main": 0.7}


def test_context_is_per_asyncio_task() -> None:
    async def read_after(delay: float, value: float) -> float | None:
        with context(temperature=value):
            await asyncio.sleep(delay)
            return current().temperature

    async def main() -> list[float | None]:
        return list(await asyncio.gather(read_after(0.02, 0.2), read_after(0.01, 0.8)))

    assert asyncio.run(main()) == [0.2, 0.8]


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        configure(temprature=0.5)
    with pytest.raises(ConfigError, match="neither a model name"):
        configure(lm=42)


def test_model_name_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmbench import settings

    monkeypatch.setenv("LMBENCH_MODEL", "scripted/echo")
    settings._global = None
    lm = get_lm()
    assert lm.name == "scripted/echo"
    assert get_lm() is lm  # named models are resolved once


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmbench import settings

    monkeypatch.setenv("LMBENCH_MAX_RETRIES", "many")
    settings._global = None
    with pytest.raises(ConfigError, match="LMBENCH_MAX_RETRIES='many' is not a whole number"):
        current()


def test_top_level_exports() -> None:
    assert lmbench.configure is configure
    assert lmbench.Predict.__name__ == "Predict"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = lmbench.Nope
