"""Choosing adapters: by name, by class, and the default for an LM."""

from __future__ import annotations

import pytest

from lmbench.adapters import (
    ChatAdapter,
    FallbackAdapter,
    JSONAdapter,
    TwoStepAdapter,
    XMLAdapter,
    default_adapter,
    resolve_adapter,
)
from lmbench.adapters.resolve import shared_default_adapter
from lmbench.errors import ConfigError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import Capabilities


class SmallLocalLM(ScriptedLM):
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=True, prefers_structured_output=True)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("chat", ChatAdapter),
        ("json", JSONAdapter),
        ("xml", XMLAdapter),
        ("twostep", TwoStepAdapter),
        ("fallback", FallbackAdapter),
        ("ChatAdapter", ChatAdapter),
        ("two-step", TwoStepAdapter),
        (" JSON ", JSONAdapter),
    ],
)
def test_names_give_fresh_instances(name: str, kind: type) -> None:
    adapter = resolve_adapter(name)
    assert type(adapter) is kind
    assert resolve_adapter(name) is not adapter


def test_instances_are_returned_as_they_are_and_classes_instantiated() -> None:
    adapter = JSONAdapter(structured_output=False)
    assert resolve_adapter(adapter) is adapter
    assert type(resolve_adapter(XMLAdapter)) is XMLAdapter


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_adapter("yaml")
    assert str(info.value) == (
        "unknown adapter 'yaml'; use one of chat, json, xml, twostep, fallback or an Adapter instance"
    )


def test_something_else_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="is not an adapter"):
        resolve_adapter(42)  # type: ignore[arg-type]


def test_default_for_a_model_that_prefers_structured_output_is_json() -> None:
    assert type(default_adapter(SmallLocalLM([]))) is JSONAdapter


def test_default_otherwise_is_chat_falling_back_to_json() -> None:
    adapter = default_adapter(ScriptedLM([]))
    assert isinstance(adapter, FallbackAdapter)
    assert [type(a) for a in adapter.adapters] == [ChatAdapter, JSONAdapter]
    assert adapter.enabled


def test_users_get_their_own_default_and_modules_share_one() -> None:
    lm, small = ScriptedLM([]), SmallLocalLM([])
    assert default_adapter(lm) is not default_adapter(lm)
    shared = shared_default_adapter(lm)
    assert shared is shared_default_adapter(ScriptedLM([]))
    assert isinstance(shared, FallbackAdapter) and shared is not default_adapter(lm)
    assert type(shared_default_adapter(small)) is JSONAdapter
    assert shared_default_adapter(small) is shared_default_adapter(small)


def test_predict_without_an_adapter_uses_the_shared_default() -> None:
    from lmbench.modules import Predict

    lm = ScriptedLM(["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"])
    assert Predict("question -> answer", lm=lm)(question="q").adapter == "ChatAdapter"
    qa = Predict("question -> answer", lm=SmallLocalLM(['{"answer": "4"}']))
    assert qa(question="q").adapter == "JSONAdapter"
    assert qa.adapter is None  # nothing was stored on the module
