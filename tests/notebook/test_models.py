"""Known models per provider, and aliases kept per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmbench.errors import ConfigError
from lmbench.notebook.models import aliases, known_models, remove_alias, resolve_model, set_alias


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LMBENCH_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_known_models_come_from_the_price_data_and_the_local_model() -> None:
    models = known_models()
    assert models["local"] == ["gemma-3-270m"]
    assert "gpt-4o-mini" in models["openai"] and models["gemini"]


def test_aliases_are_saved_resolved_and_removed(config_dir: Path) -> None:
    set_alias("fast", "openai/gpt-4o-mini")
    assert (config_dir / "aliases.json").is_file()
    assert aliases() == {"fast": "openai/gpt-4o-mini"}
    assert resolve_model("fast") == "openai/gpt-4o-mini"
    assert resolve_model("openai/gpt-4o") == "openai/gpt-4o" and resolve_model(None) is None
    assert remove_alias("fast") and not remove_alias("fast")


@pytest.mark.parametrize(("name", "model"), [("a/b", "openai/x"), ("fast", "gpt-4o"), ("", "a/b")])
def test_bad_aliases_say_what_to_write(name: str, model: str) -> None:
    with pytest.raises(ConfigError, match="alias"):
        set_alias(name, model)


def test_a_damaged_aliases_file_warns_and_reads_as_none(config_dir: Path) -> None:
    (config_dir / "aliases.json").write_text("{not json")
    with pytest.warns(UserWarning, match="ignoring the aliases"):
        assert aliases() == {}
