"""Model names for the magics: the known models per provider, and short aliases.

Known models come from the price data bundled with ``genai-prices`` (every model it can
price, under lmbench's provider prefixes) plus the embedded local model. Aliases
(``%lmbench alias fast openai/gpt-4o-mini``) are kept per user in ``aliases.json`` in the
user config folder (``LMBENCH_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/lmbench`` or
``~/.config/lmbench``), so ``-m fast`` works in every later session.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lmbench.errors import ConfigError

__all__ = [
    "aliases",
    "aliases_file",
    "configured_model_name",
    "known_models",
    "remove_alias",
    "resolve_model",
    "set_alias",
]

#: lmbench provider prefix -> the provider id of the same service in genai-prices.
_PRICE_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "mistral": "mistral",
    "groq": "groq",
    "together": "together",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "openrouter": "openrouter",
}


def known_models() -> dict[str, list[str]]:
    """Model names (without the prefix) per lmbench provider prefix."""
    from lmbench.lm.registry import DEFAULT_MODEL

    models: dict[str, list[str]] = {"local": [DEFAULT_MODEL.split("/", 1)[1]]}
    try:
        from genai_prices import data
    except ImportError:  # the price data is optional: only the local model is then known
        return models
    by_id = {provider.id: provider for provider in data.providers}
    for prefix, provider_id in _PRICE_PROVIDERS.items():
        provider = by_id.get(provider_id)
        if provider is not None:
            models[prefix] = sorted({model.id for model in provider.models})
    return models


def aliases_file() -> Path:
    configured = os.environ.get("LMBENCH_CONFIG_DIR", "").strip()
    if configured:
        return Path(configured).expanduser() / "aliases.json"
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "lmbench" / "aliases.json"


def aliases() -> dict[str, str]:
    """The saved aliases; a damaged file reads as none (with the reason in the warning)."""
    path = aliases_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        import warnings

        warnings.warn(f"lmbench: ignoring the aliases in {path}: {exc}", stacklevel=2)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def _write(values: dict[str, str]) -> None:
    path = aliases_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def set_alias(name: str, model: str) -> None:
    """Make ``name`` stand for ``model`` (a ``provider/model`` name) from now on."""
    if not name or "/" in name or not all(c.isalnum() or c in "-_." for c in name):
        raise ConfigError(
            f"alias {name!r}: use letters, digits, '-', '_' or '.', and no '/' "
            "(a '/' means provider/model)"
        )
    if "/" not in model:
        raise ConfigError(
            f"alias {name} -> {model!r}: the model must be 'provider/model', "
            "e.g. openai/gpt-4o-mini (see %lmbench models)"
        )
    values = aliases()
    values[name] = model
    _write(values)


def remove_alias(name: str) -> bool:
    values = aliases()
    if values.pop(name, None) is None:
        return False
    _write(values)
    return True


def resolve_model(name: str | None) -> str | None:
    """``name``, or the model its alias stands for."""
    if name is None or "/" in name:
        return name
    return aliases().get(name, name)


def configured_model_name() -> str:
    """The model calls go to when none is named: configured, ``LMBENCH_MODEL``, or the default."""
    from lmbench.env import env_str
    from lmbench.lm.registry import DEFAULT_MODEL
    from lmbench.settings import current

    configured = current().lm
    if configured is None:
        return env_str("LMBENCH_MODEL") or DEFAULT_MODEL
    return configured if isinstance(configured, str) else getattr(configured, "name", "model")
