"""Notebook output never shows a key: ``%lmbench models`` and ``config``, ``%%predict``
answers and error cards with a keyed model whose server echoes the request, and
``%lmbench explain`` of an error whose text holds a key (neither the model nor the panel
gets it)."""

from __future__ import annotations

from typing import Any

import pytest
from leak_scan import KEYS, Artifacts, chat_echo, error_echo
from provider_faults import FaultServer

import lmbench
from lmbench.lm import ScriptedLM
from lmbench.providers.services import SERVICES
from lmbench.settings import configure

from .conftest import chat_answer, html_of, run_cell


def test_no_notebook_view_shows_a_key(
    shell: Any, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_keys = {}
    for service in SERVICES.values():
        for variable in service.key_env:
            env_keys[variable] = f"Znb{variable.replace('_', '')[:10]}Q7w9e"
            monkeypatch.setenv(variable, env_keys[variable])
    lm = lmbench.resolve_lm(
        "openai/gpt-4o-mini",
        api_key=KEYS["api_key"],
        base_url=f"http://u:{KEYS['userinfo']}@127.0.0.1:{server.port}/v1?key={KEYS['query']}",
        headers={"x-portkey-api-key": KEYS["gateway_header"]},
        max_retries=0,
    )
    configure(lm=lm)
    server.script(chat_echo, error_echo(401))
    found = Artifacts()

    def cell(source: str) -> None:
        run = run_cell(shell, source)
        found.add_all(source.split()[0], [run.html(), run.text(), run.stderr, repr(run.result)])
        if run.result is not None:
            found.add("result html", html_of(shell, run.result))
        if run.error is not None:
            found.add_error("cell error", run.error)

    cell("%lmbench models")
    cell("%lmbench config")
    cell('%%predict "question -> answer"\nquestion: capital of France?\n')
    cell('%%predict "question -> answer"\nquestion: refused?\n')  # an error card
    cell("%lmbench history 5")
    cell("%lmbench last")
    browser = run_cell(shell, "%lmbench history --browse").result
    for index in range(len(browser.entries)):  # every call's detail, as the widget shows it
        browser.show(index)
        found.add("browser detail", browser.detail.value)
    found.add_all("browser", [browser.calls.options, browser._repr_mimebundle_()])
    # the user's own cell prints its own traceback (IPython's, not lmbench's): not scanned
    run_cell(shell, "import os\nraise RuntimeError('bad key ' + os.environ['OPENAI_API_KEY'])")
    explainer = ScriptedLM([chat_answer(explanation="The key was refused.")])
    configure(lm=explainer)
    cell("%lmbench explain")
    assert server.count == 2 and "The key was refused." in "".join(found.texts.values())
    found.add("sent to the explaining model", explainer.last_prompt)
    assert "RuntimeError: bad key [redacted]" in explainer.last_prompt
    keys = [*env_keys.values(), KEYS["api_key"], KEYS["userinfo"], KEYS["query"]]
    leaks = found.leaks([*keys, KEYS["gateway_header"]])
    assert leaks == [], "\n".join(map(repr, leaks))
