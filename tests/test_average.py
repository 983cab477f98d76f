"""Averaging NLI models fine-tuned from one start (scripts/average_models.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import REPO, build_tiny_nli_model
from safetensors.torch import load_file

from nli_check.errors import NLICheckError
from nli_check.training import average_models


def test_the_average_is_the_mean_of_the_weights_and_loads_as_an_nli_model(tmp_path):
    from nli_check.nli import NLIModel

    a = build_tiny_nli_model(tmp_path / "a", seed=1)
    b = build_tiny_nli_model(tmp_path / "b", seed=2)
    (b / "training_record.json").write_text(json.dumps({"steps": 7}), encoding="utf-8")
    summary = average_models([a, b], tmp_path / "soup", dtype="float32")

    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    soup = load_file(tmp_path / "soup" / "model.safetensors")
    name = "classifier.weight"
    assert not torch.equal(wa[name], wb[name])
    torch.testing.assert_close(soup[name], (wa[name] + wb[name]) / 2)
    assert summary == json.loads((tmp_path / "soup" / "average.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in summary["sources"]] == [str(a), str(b)]
    assert "training_record" not in summary["sources"][0]
    assert summary["sources"][1]["training_record"] == {"steps": 7}

    model = NLIModel(tmp_path / "soup", device="cpu", max_length=32)
    assert model.label_index == NLIModel(a, device="cpu", max_length=32).label_index
    probs = model.predict_proba([("The bridge reopened.", "The bridge is shut.")])
    assert probs.shape == (1, 3) and abs(float(probs.sum()) - 1) < 1e-5


def test_models_with_other_labels_are_not_averaged(tmp_path):
    a = build_tiny_nli_model(tmp_path / "a")
    other = build_tiny_nli_model(tmp_path / "b", id2label={0: "contradiction", 1: "entailment", 2: "neutral"})
    with pytest.raises(NLICheckError, match="not the same kind of model"):
        average_models([a, other], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()


def test_the_script_says_what_to_do_with_a_missing_model(tmp_path):
    a = build_tiny_nli_model(tmp_path / "a")
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "average_models.py"), str(a),
                           str(tmp_path / "missing"), "-o", str(tmp_path / "soup")],
                          capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no model at") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "soup").exists()
