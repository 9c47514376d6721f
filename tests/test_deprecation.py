"""Names renamed or moved in 0.2 keep working for one release, each with a DeprecationWarning
that names the new place."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# (code that uses the old name, what the old name must be, the new place the warning names)
OLD_NAMES = [
    ("import lmbench; old = lmbench.History", "lmbench.Conversation", "lmbench.primitives"),
    ("from lmbench.primitives import History as old", "lmbench.Conversation", "Conversation"),
    (
        "from lmbench.primitives.history import History as old",
        "lmbench.Conversation",
        "conversation",
    ),
    ("from lmbench.types import Image as old", "lmbench.Image", "lmbench.media"),
    ("from lmbench.observe import lm_call as old", "lmbench.calls.lm_call", "lmbench.calls"),
    ("from lmbench.observe import budget as old", "lmbench.budget", "lmbench.calls"),
    ("from lmbench.observe import History as old", "lmbench.history.__class__", "CallHistory"),
    ("from lmbench.observe import logger as old", "lmbench.logs.logger", "lmbench.logs"),
    ("from lmbench.providers import Secret as old", "lmbench.secrets.Secret", "lmbench.secrets"),
]


@pytest.mark.parametrize(("code", "new", "where"), OLD_NAMES)
def test_an_old_name_still_works_and_warns(code: str, new: str, where: str) -> None:
    script = (
        "import json, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        f"    {code}\n"
        "import lmbench, lmbench.calls, lmbench.logs, lmbench.secrets\n"
        f"same = old is {new}\n"
        "print(json.dumps([same, [str(w.message) for w in caught if w.category is DeprecationWarning]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    same, messages = json.loads(out.stdout.strip().splitlines()[-1])
    assert same
    assert messages and any(where in m and "next release" in m for m in messages)


def test_the_new_names_do_not_warn() -> None:
    script = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "import lmbench\n"
        "lmbench.Conversation, lmbench.Image, lmbench.history, lmbench.budget\n"
        "from lmbench.calls import lm_call, module_call, budget, Callback\n"
        "from lmbench.observe import CallHistory, MemoryCollector, history\n"
        "from lmbench.secrets import Secret\n"
        "from lmbench.media import Image\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
