from __future__ import annotations

from dataclasses import replace

import pytest

from lmbench.errors import ConfigError
from lmbench.lm import ScriptedLM, known_providers, register_provider, resolve_lm


def test_scripted_names_resolve() -> None:
    lm = resolve_lm("scripted/echo")
    assert lm.name == "scripted/echo"


def test_lm_objects_pass_through() -> None:
    lm = ScriptedLM(["x"])
    assert resolve_lm(lm) is lm


def test_unknown_prefix_lists_known_providers() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_lm("nosuch/model")
    message = str(info.value)
    assert "unknown provider 'nosuch'" in message
    for prefix in ("openai", "anthropic", "gemini", "local", "ollama"):
        assert prefix in message


def test_name_without_prefix_explains_the_form() -> None:
    with pytest.raises(ConfigError, match="write it as 'provider/model'"):
        resolve_lm("my-own-model")


@pytest.mark.parametrize(
    ("bare", "full"),
    [
        ("gpt-4o-mini", "openai/gpt-4o-mini"),
        ("o3-mini", "openai/o3-mini"),
        ("claude-haiku-4-5", "anthropic/claude-haiku-4-5"),
        ("gemini-2.5-flash", "gemini/gemini-2.5-flash"),
        ("deepseek-chat", "deepseek/deepseek-chat"),
    ],
)
def test_a_bare_model_name_resolves_to_its_provider(bare: str, full: str) -> None:
    assert resolve_lm(bare).name == full


def test_a_bare_name_of_several_providers_lists_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lmbench.providers import services

    monkeypatch.setitem(
        services.PROVIDERS, "other", replace(services.PROVIDERS["openai"], name="other")
    )
    with pytest.raises(ConfigError) as info:
        resolve_lm("gpt-4o-mini")
    assert "could belong to several providers" in str(info.value)
    assert "'openai/gpt-4o-mini'" in str(info.value) and "'other/gpt-4o-mini'" in str(info.value)


def test_register_provider() -> None:
    register_provider("mine", lambda model, **kw: ScriptedLM(["hi"], model=model))
    lm = resolve_lm("mine/tiny")
    assert lm.name == "scripted/tiny"
    assert "mine" in known_providers()


def test_entry_points_group_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmbench.lm import registry

    class FakeEntryPoint:
        name = "thirdparty"

        def load(self):  # type: ignore[no-untyped-def]
            return lambda model, **kw: ScriptedLM(["ep"], model=model)

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [FakeEntryPoint()] if group == "lmbench.providers" else [],
    )
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    assert resolve_lm("thirdparty/x").model == "x"
