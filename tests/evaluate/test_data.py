"""Loading rows: DataFrames, Examples, dicts, CSV and JSONL files; inputs vs labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lmbench.errors import ConfigError, InputError
from lmbench.evaluate.data import load_rows
from lmbench.modules.base import Module
from lmbench.modules.predict import Predict
from lmbench.primitives.example import Example

QA = Predict("question, context -> answer")


def test_dataframe_columns_named_like_inputs_are_inputs_the_rest_labels() -> None:
    frame = pd.DataFrame(
        {"question": ["a?", "b?"], "context": ["x", "y"], "answer": ["A", None], "id": [7, 8]},
        index=["r1", "r2"],
    )
    rows = load_rows(frame, QA)
    assert [r.index for r in rows] == ["r1", "r2"]
    assert rows[0].inputs == {"question": "a?", "context": "x"}
    assert rows[0].labels == {"answer": "A", "id": 7} and type(rows[0].labels["id"]) is int
    assert rows[1].labels["answer"] is None  # pandas' missing value becomes None
    assert rows[0].example().inputs().to_dict() == rows[0].inputs


def test_a_missing_input_column_names_it_and_the_columns_present() -> None:
    frame = pd.DataFrame({"question": ["a?"], "answer": ["A"]})
    with pytest.raises(InputError) as info:
        load_rows(frame, QA)
    message = str(info.value)
    assert "'context'" in message and "['question', 'answer']" in message
    # constants fill an input the data lacks
    assert load_rows(frame, QA, {"context": "c"})[0].inputs == {"question": "a?", "context": "c"}


def test_lists_of_dicts_and_examples(tmp_path: Path) -> None:
    rows = load_rows([{"question": "q", "context": "c", "answer": "a"}], QA)
    assert rows[0].labels == {"answer": "a"}
    marked = Example(text="hi", gold="x").with_inputs("text")

    class Echo(Module):
        def forward(self, **inputs: Any) -> dict[str, Any]:
            return inputs

    (row,) = load_rows([marked], Echo())
    assert row.inputs == {"text": "hi"} and row.labels == {"gold": "x"}
    with pytest.raises(InputError, match="missing in item 0: the program takes inputs"):
        load_rows([{"question": "q"}], QA)
    with pytest.raises(ConfigError, match="data item 1 is a str"):
        load_rows([{"question": "q", "context": "c"}, "oops"], QA)
    with pytest.raises(ConfigError, match="pass a pandas DataFrame"):
        load_rows({"question": "q"}, QA)


def test_forward_parameters_with_defaults_are_optional() -> None:
    class Program(Module):
        def forward(self, question: str, style: str = "terse") -> dict[str, str]:
            return {"answer": question}

    rows = load_rows(
        [{"question": "q", "answer": "a"}, {"question": "r", "style": "long"}], Program()
    )
    assert rows[0].inputs == {"question": "q"} and rows[1].inputs == {
        "question": "r",
        "style": "long",
    }


def test_csv_and_jsonl_files(tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text("question,context,answer\nWhat?,ctx,42\n")
    (row,) = load_rows(csv, QA)
    assert row.inputs == {"question": "What?", "context": "ctx"} and row.labels == {"answer": 42}
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text(json.dumps({"question": "q", "context": "c", "answer": "a"}) + "\n\n")
    assert load_rows(str(jsonl), QA)[0].labels == {"answer": "a"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\nnot json\n')
    with pytest.raises(ConfigError, match="line 2: not JSON"):
        load_rows(bad, QA)
    with pytest.raises(ConfigError, match="does not exist"):
        load_rows(tmp_path / "missing.csv", QA)
    with pytest.raises(ConfigError, match=r"unknown format '\.txt'"):
        (tmp_path / "x.txt").write_text("")
        load_rows(tmp_path / "x.txt", QA)
