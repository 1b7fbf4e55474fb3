"""The README's notebook example runs as written against a dev node (only its URL replaced).

It registers the recurrent cell as //Bob and runs a job as //Charlie, so it needs a chain where
Bob has not registered that file yet, as the fresh node of ``tests/tests/python_sdk.rs``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# The example names the model file from the repository's root (`models/recurrent-cell.onnx`).
REPOSITORY = Path(__file__).resolve().parents[3]


def notebook() -> str:
    """The README's first Python block: the notebook-style example."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, f"no Python example in {README}"
    return blocks[0]


def test_the_readme_example_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    url = os.environ["GATELESS_URL"]
    code = notebook()
    assert "ws://127.0.0.1:9944" in code, "the example connects to the dev chain's address"
    monkeypatch.chdir(REPOSITORY)
    scope: dict[str, object] = {}
    exec(compile(code.replace("ws://127.0.0.1:9944", url), str(README), "exec"), scope)

    # What the example's comments say it shows.
    model, result, user = scope["model"], scope["result"], scope["user"]
    assert model.status == "active"
    assert [spec.name for spec in model.signature.inputs] == ["x", "state", "sr"]
    assert result.outputs["y"].shape == (3, 1)
    assert result.outputs["state_next"].dtype == np.float32
    assert len(result.executors) == 1
    assert result.fees.total == result.fees.held + result.fees.data_fee
    assert user.job(result.job).status == "finalized"
    assert "recurrent-cell" in [m.name for m in user.models()]
