"""Model sources, missing optional modules and lazy imports of the local provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmbench.errors import ConfigError
from lmbench.lm.registry import resolve_lm
from lmbench.providers.local import LocalLM, local_model_unavailable
from lmbench.providers.local_runtime import (
    BUILD_FLAGS,
    DEFAULT_MODEL_PACKAGE,
    INSTALL_COMMAND,
    ModelSource,
    cgroup_cpu_quota,
    grammar_for,
    require_module,
    usable_cpus,
)


def test_install_command_names_the_extra_and_the_portable_build_flags() -> None:
    assert f'CMAKE_ARGS="{BUILD_FLAGS}" pip install "lmbench[local]"' == INSTALL_COMMAND
    assert "-DGGML_NATIVE=OFF" in BUILD_FLAGS


def test_default_name_maps_to_the_gemma_package() -> None:
    assert ModelSource.parse("gemma-3-270m") == ModelSource(
        "gemma-3-270m", package=DEFAULT_MODEL_PACKAGE
    )


def test_a_gguf_path_is_a_file_source(tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    source = ModelSource.parse(str(model))
    assert source.path == model.resolve()
    assert source.package is None
    assert source.resolve() == model.resolve()


def test_a_missing_gguf_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(ConfigError, match=r"nowhere\.gguf' does not exist.*local/gemma-3-270m"):
        ModelSource.parse(str(missing))


def test_another_name_is_a_package_name() -> None:
    assert ModelSource.parse("my-model-pack").package == "my_model_pack"


def test_a_package_that_is_not_installed_is_reported_at_construction() -> None:
    with pytest.raises(
        ConfigError, match=r"'no-such-model' is neither a \.gguf file nor an installed"
    ):
        LocalLM("no-such-model")


def test_a_package_without_assemble_is_refused() -> None:
    source = ModelSource.parse("json")  # importable, but no assemble()
    with pytest.raises(ConfigError, match=r"no assemble\(\) function"):
        source.resolve()


def test_missing_llama_cpp_raises_config_error_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(ConfigError) as caught:
        resolve_lm("local/gemma-3-270m")
    assert INSTALL_COMMAND in str(caught.value)
    assert "'llama_cpp'" in str(caught.value)
    with pytest.raises(ConfigError, match="lmbench\\[local\\]"):
        require_module("llama_cpp", what="the local model provider")
    assert INSTALL_COMMAND in (local_model_unavailable() or "")


def test_missing_model_package_raises_config_error_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, DEFAULT_MODEL_PACKAGE, None)
    with pytest.raises(ConfigError) as caught:
        LocalLM()
    assert INSTALL_COMMAND in str(caught.value)
    assert DEFAULT_MODEL_PACKAGE in str(caught.value)


def test_importing_the_provider_does_not_import_llama_cpp() -> None:
    code = (
        "import sys, json, lmbench, lmbench.providers.local\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"('llama_cpp', 'numpy', '{DEFAULT_MODEL_PACKAGE}'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_an_unsupported_schema_is_a_config_error() -> None:
    if local_model_unavailable():
        pytest.skip(local_model_unavailable() or "")
    with pytest.raises(
        ConfigError, match=r"response_schema cannot be turned into a llama\.cpp grammar"
    ):
        grammar_for({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}})


def test_grammars_are_compiled_once_per_schema_keeping_property_order() -> None:
    if local_model_unavailable():
        pytest.skip(local_model_unavailable() or "")
    schema = {
        "type": "object",
        "properties": {"zeta": {"type": "integer"}, "alpha": {"type": "string"}},
        "required": ["zeta", "alpha"],
    }
    grammar = grammar_for(schema)
    assert grammar_for(json.loads(json.dumps(schema))) is grammar
    assert _rule(grammar, "root") == 'root ::= "{" space zeta-kv "," space alpha-kv "}" space'
    swapped = {**schema, "properties": dict(reversed(schema["properties"].items()))}
    assert (
        _rule(grammar_for(swapped), "root")
        == 'root ::= "{" space alpha-kv "," space zeta-kv "}" space'
    )


def test_json_strings_may_not_hold_raw_control_characters() -> None:
    if local_model_unavailable():
        pytest.skip(local_model_unavailable() or "")
    grammar = grammar_for({"type": "object", "properties": {"s": {"type": "string"}}})
    assert _rule(grammar, "char").startswith(r'char ::= [^"\\\x7F\x00-\x1F] | "\\"')


def _rule(grammar: object, name: str) -> str:
    lines = grammar._grammar.splitlines()  # type: ignore[attr-defined]
    return next(line for line in lines if line.startswith(f"{name} ::="))


def test_cgroup_v2_cpu_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_cgroup_v1_cpu_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    assert cgroup_cpu_quota(tmp_path) == 2.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path) is None
    assert cgroup_cpu_quota(tmp_path / "nothing-here") is None


def test_usable_cpus_is_within_the_machine() -> None:
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
