"""Which code of a model's answer runs: its Python blocks, never the output it shows."""

from __future__ import annotations

import pytest

from lmbench.modules.code_runs import extract_code

FENCE = "```"


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("x = 1", "x = 1"),
        (f"{FENCE}\nx = 1\n{FENCE}", "x = 1"),
        (f"{FENCE}python\nx = 1\n{FENCE}", "x = 1"),
        (f"{FENCE}Python3\nx = 1\n{FENCE}", "x = 1"),
        # the output the model expects, shown in an unlabelled block, is not code
        (f"{FENCE}python\nprint(2)\n{FENCE}\nOutput:\n{FENCE}\n2\n{FENCE}", "print(2)"),
        # a block of another language before the Python one
        (f"{FENCE}bash\npip install x\n{FENCE}\n{FENCE}py\nx = 2\n{FENCE}", "x = 2"),
        (f"{FENCE}python\na = 1\n{FENCE}\nthen\n{FENCE}python\nb = 2\n{FENCE}", "a = 1\n\nb = 2"),
        # a fence inside a string of the code does not end the block
        (f'{FENCE}python\ns = "{FENCE}"\n{FENCE}', f's = "{FENCE}"'),
        (f"{FENCE}python\nx = 1", "x = 1"),  # a block left open runs to the end
        (f'{FENCE}json title="out"\n{{}}\n{FENCE}\n{FENCE}python\nx = 3\n{FENCE}', "x = 3"),
    ],
)
def test_the_code_of_an_answer_is_its_python(answer: str, code: str) -> None:
    assert extract_code(answer) == code
