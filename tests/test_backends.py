"""Backends and quantisation: torch fp32, torch int8 and ONNX Runtime (fp32, int8) give the
same labels, windows and calibrated probabilities; the ONNX export is cached; the CLI's
``--backend`` and ``--quantize`` reach the model; a missing onnxruntime is a one-line error."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from nli_check.cli import cli
from nli_check.errors import NLICheckError
from nli_check.labels import LABELS
from nli_check.nli import (
    CPU_DEFAULT_QUANTIZE,
    ONNX_OPSET,
    NLIModel,
    default_mode,
    onnx_cache_dir,
    resolve_mode,
)

HAVE_ORT = (
    importlib.util.find_spec("onnxruntime") is not None
    and importlib.util.find_spec("onnx") is not None
)
needs_onnx = pytest.mark.skipif(
    not HAVE_ORT, reason="onnxruntime/onnx not installed: pip install onnxruntime onnx"
)

LONG_PREMISE = " ".join(
    f"Sentence {i} of the report says the convoy moved north at dawn near the river."
    for i in range(12)
)
PAIRS = [
    ("A man is playing a guitar on stage.", "A man is playing music."),
    ("A man is playing a guitar on stage.", "Nobody is playing anything."),
    ("The troops are leaving the border.", "The troops are staying at the border."),
    ("Two dogs run through the snow.", "Animals are outside."),
    ("The minister said the talks had failed.", "The talks succeeded."),
    ("A woman reads a book in a quiet library.", "The woman is asleep at home."),
    (LONG_PREMISE, "The convoy moved south."),  # longer than max_length: windowed
    ("Short.", "Also short."),
]


@pytest.fixture(scope="module")
def sharp_model_dir(tmp_path_factory):
    """The tiny model with its classifier rescaled so the logits vary between pairs (centred,
    standard deviation about 3): most pairs get a clear winning label, not all the same one."""
    import torch
    from conftest import build_tiny_nli_model
    from transformers import AutoTokenizer, BertForSequenceClassification

    path = build_tiny_nli_model(tmp_path_factory.mktemp("sharp-nli"), seed=3)
    model = BertForSequenceClassification.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok(
        [p for p, _ in PAIRS],
        [h for _, h in PAIRS],
        padding=True,
        truncation=True,
        max_length=64,
        return_tensors="pt",
    )
    with torch.no_grad():
        logits = model(**enc).logits
        centred = logits - logits.mean(dim=0)
        scale = 3.0 / float(centred.std())
        model.classifier.weight.mul_(scale)
        model.classifier.bias.copy_(scale * (model.classifier.bias - logits.mean(dim=0)))
    model.save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A private ONNX cache, so tests neither read nor fill the user's."""
    monkeypatch.setenv("NLI_CHECK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def _load(path, backend="torch", quantize=None, **kwargs):
    return NLIModel(path, device="cpu", max_length=64, backend=backend, quantize=quantize, **kwargs)


# ---------------------------------------------------------------------------- modes
def test_resolve_mode_validates_and_resolves_auto():
    assert resolve_mode("torch", None) == ("torch", None)
    assert resolve_mode("torch", "none") == ("torch", None)
    assert resolve_mode("TORCH", "INT8") == ("torch", "int8")
    assert resolve_mode("auto", "auto", "cpu") == default_mode("cpu")
    assert resolve_mode("auto", "auto", "cuda:0") == ("torch", None)  # int8 and onnx are CPU-only
    assert resolve_mode("torch", "auto", "cpu") == ("torch", CPU_DEFAULT_QUANTIZE["torch"])
    assert resolve_mode("onnx", "auto", "cpu") == ("onnx", CPU_DEFAULT_QUANTIZE["onnx"])
    assert resolve_mode("torch", "auto", "cuda") == ("torch", None)
    with pytest.raises(NLICheckError, match="unknown backend 'tensorrt': use torch, onnx or auto"):
        resolve_mode("tensorrt", None)
    with pytest.raises(NLICheckError, match="unknown quantization 'int4': use int8, none or auto"):
        resolve_mode("torch", "int4")


def test_torch_int8_agrees_with_fp32(tiny_model_dir):
    fp32 = _load(tiny_model_dir)
    int8 = _load(tiny_model_dir, quantize="int8")
    assert (int8.backend, int8.quantize) == ("torch", "int8")
    _assert_agree(fp32.predict(PAIRS), int8.predict(PAIRS), atol=0.001)


def test_unknown_quantization_is_refused_and_quantized_models_are_not_saved(tiny_model_dir, tmp_path):
    with pytest.raises(NLICheckError, match="unknown quantization"):
        NLIModel(tiny_model_dir, device="cpu", quantize="fp4")
    with pytest.raises(NLICheckError, match="cannot be saved"):
        _load(tiny_model_dir, quantize="int8").save_pretrained(tmp_path / "out")


# ---------------------------------------------------------------------------- ONNX
@needs_onnx
@pytest.mark.parametrize(
    "fixture, quantize, atol",
    [
        # fp32: the same numbers up to the runtimes' kernel rounding, which the rescaled classifier
        # amplifies (up to 1.1e-4 on one CPU, under 1e-4 on another), on a model whose labels vary
        ("sharp_model_dir", None, 5e-4),
        ("tiny_model_dir", "int8", 5e-4),  # int8: close, on the fixture (quantisation noise would
    ],
)  # swamp the sharp model's small differences)
def test_onnx_agrees_with_torch(request, cache, fixture, quantize, atol):
    model_dir = request.getfixturevalue(fixture)
    torch_model = _load(model_dir, temperature=1.7)
    onnx_model = _load(model_dir, backend="onnx", quantize=quantize, temperature=1.7)
    assert (onnx_model.backend, onnx_model.quantize) == ("onnx", quantize)
    assert onnx_model.label_index == torch_model.label_index
    expected, got = torch_model.predict(PAIRS), onnx_model.predict(PAIRS)
    assert [r.windows for r in got] == [r.windows for r in expected]
    assert expected[6].windows > 1  # the long premise was windowed by both
    _assert_agree(expected, got, atol=atol)
    # Uncalibrated logits too, and the temperature is applied the same way.
    np.testing.assert_allclose(
        onnx_model.predict_logits(PAIRS),
        torch_model.predict_logits(PAIRS),
        atol=20 * atol,
        rtol=0.05,
    )


@needs_onnx
def test_onnx_matches_torch_with_batches_of_mixed_lengths(tiny_model_dir, cache):
    """Padding inside a batch must not change a pair's result (the attention mask is exported)."""
    pairs = PAIRS * 5
    one_by_one = _load(tiny_model_dir, backend="onnx").predict_proba(pairs, batch_size=1)
    batched = _load(tiny_model_dir, backend="onnx").predict_proba(pairs, batch_size=16)
    reference = _load(tiny_model_dir).predict_proba(pairs, batch_size=16)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    np.testing.assert_allclose(batched, reference, atol=1e-5)


@needs_onnx
def test_onnx_export_is_cached_by_weights_and_reused(
    tiny_model_dir, sharp_model_dir, cache, monkeypatch
):
    import nli_check.nli as nli

    first = _load(tiny_model_dir, backend="onnx", quantize="int8")
    assert first.onnx_path.exists() and first.onnx_path.parent.parent == cache == onnx_cache_dir()
    assert first.onnx_path.name == f"model-opset{ONNX_OPSET}-int8-perchannel.onnx"
    fp32_path = first.onnx_path.with_name(f"model-opset{ONNX_OPSET}.onnx")
    assert fp32_path.exists()  # the int8 graph is quantised from the fp32 export
    stamp = first.onnx_path.stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cache holds this model")

    monkeypatch.setattr(nli, "_export_onnx", no_export)
    monkeypatch.setattr(nli, "_quantize_onnx", no_export)
    again = _load(tiny_model_dir, backend="onnx", quantize="int8")
    assert again.onnx_path == first.onnx_path and again.onnx_path.stat().st_mtime_ns == stamp
    assert _load(tiny_model_dir, backend="onnx").onnx_path == fp32_path
    np.testing.assert_array_equal(again.predict_proba(PAIRS), first.predict_proba(PAIRS))
    # Other weights are another cache entry (so the reuse above was keyed, not blind).
    with pytest.raises(AssertionError, match="exported again"):
        _load(sharp_model_dir, backend="onnx")


@needs_onnx
def test_weights_replaced_at_the_same_path_are_exported_again(tmp_path, cache):
    """A model retrained in place must not run on the graph exported from its old weights."""
    from conftest import build_tiny_nli_model

    path = build_tiny_nli_model(tmp_path / "model", seed=0)
    first = _load(path, backend="onnx")
    old_logits = first.predict_logits(PAIRS)
    build_tiny_nli_model(path, seed=1)  # same path, same config, new weights
    again = _load(path, backend="onnx")
    assert again.onnx_path != first.onnx_path and first.onnx_path.exists()
    new_logits = again.predict_logits(PAIRS)
    np.testing.assert_allclose(new_logits, _load(path).predict_logits(PAIRS), atol=1e-4)
    assert np.abs(new_logits - old_logits).max() > 1e-2


@needs_onnx
def test_onnx_models_are_not_saved(tiny_model_dir, cache, tmp_path):
    with pytest.raises(NLICheckError, match="load it with backend='torch'"):
        _load(tiny_model_dir, backend="onnx").save_pretrained(tmp_path / "out")


def test_missing_onnxruntime_is_a_one_line_error(tiny_model_dir, cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    with pytest.raises(NLICheckError) as info:
        _load(tiny_model_dir, backend="onnx")
    message = str(info.value)
    assert "pip install onnxruntime onnx" in message and "\n" not in message
    assert default_mode("cpu")[0] == "torch"  # auto never picks a backend that is not there
    assert not cache.exists()


@needs_onnx
@pytest.mark.slow
def test_int8_keeps_the_shipped_models_labels(shipped_model_dir, cache):
    """On the real model, int8 (ONNX and torch) gives fp32's label wherever fp32 is decided,
    and probabilities close to fp32's."""
    reference = NLIModel(shipped_model_dir, device="cpu", backend="torch", quantize=None)
    fp32, fp32_probs = reference.predict(PAIRS), reference.predict_proba(PAIRS)
    decided = [i for i, r in enumerate(fp32) if r.confidence > 0.8]
    assert len(decided) >= 3
    for backend in ("onnx", "torch"):
        model = NLIModel(shipped_model_dir, device="cpu", backend=backend, quantize="int8")
        int8 = model.predict(PAIRS)
        assert [int8[i].label for i in decided] == [fp32[i].label for i in decided]
        drift = np.abs(model.predict_proba(PAIRS) - fp32_probs)
        # Undecided pairs move the most: torch's dynamic int8 moves "The minister said the talks had
        # failed." / "The talks succeeded." (fp32: no label above 0.55) by 0.37.
        assert drift.mean() < 0.05 and drift.max() < 0.4


# ---------------------------------------------------------------------------- CLI and pipeline
def _cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture()
def demo(tmp_path):
    (tmp_path / "draft.txt").write_text(
        "Russia is withdrawing its troops from the border.\n", encoding="utf-8"
    )
    (tmp_path / "wire.txt").write_text(
        "Wallace saw no evidence that troops were withdrawing.\n", encoding="utf-8"
    )
    return tmp_path


def _check_args(demo, model) -> list:
    """``nli-check check`` on the demo pair with ``model`` on the CPU, every pair compared."""
    return ["check", demo / "draft.txt", "-e", demo / "wire.txt", "--model", model, "--device", "cpu",
            "--min-similarity", "0"]


@needs_onnx
@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_cli_backend_onnx(contradiction_model_dir, demo, cache, quantize):
    args = _check_args(demo, contradiction_model_dir)
    result = _cli(*args, "--backend", "onnx", "--quantize", quantize, "-f", "json")
    assert result.exit_code == 0, result.output
    import json

    findings = json.loads(result.stdout)["findings"]
    assert [f["label"] for f in findings] == ["contradiction"]
    assert findings[0]["confidence"] > 0.99
    name = f"model-opset{ONNX_OPSET}" + ("-int8-perchannel" if quantize == "int8" else "") + ".onnx"
    assert list(cache.rglob(name))  # the CLI ran the NLI model on ONNX Runtime


def test_cli_torch_int8_and_bad_values(contradiction_model_dir, demo, cache):
    base = [*_check_args(demo, contradiction_model_dir), "-f", "jsonl"]
    result = _cli(*base, "--backend", "torch", "--quantize", "int8")
    assert result.exit_code == 0, result.output
    assert '"label": "contradiction"' in result.output
    assert not cache.exists()  # the torch backend never exports
    result = _cli(*base, "--backend", "tensorrt")
    assert result.exit_code == 2 and "tensorrt" in result.output


def test_cli_missing_onnxruntime_exits_1_with_the_install_hint(
    contradiction_model_dir, demo, cache, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    args = [str(a) for a in _check_args(demo, contradiction_model_dir)]
    result = CliRunner().invoke(cli, [*args, "--backend", "onnx"])
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        "Error: the onnx backend needs ONNX Runtime, which is not installed: "
        "pip install onnxruntime onnx (both are dependencies of nli-check), or use --backend torch"
    ]


def test_pipeline_loads_each_model_once(contradiction_model_dir):
    from nli_check.pipeline import _load_model

    first = _load_model(contradiction_model_dir, "cpu", "torch", "none")
    assert _load_model(contradiction_model_dir, "cpu", "torch", "none") is first
    assert _load_model(contradiction_model_dir, "cpu", "torch", "int8") is not first
    assert _load_model(first, "cpu") is first


# ---------------------------------------------------------------------------- helpers
def _assert_agree(expected, got, atol):
    probs_e = np.array([[r.probabilities[name] for name in LABELS] for r in expected])
    probs_g = np.array([[r.probabilities[name] for name in LABELS] for r in got])
    np.testing.assert_allclose(probs_g, probs_e, atol=atol)
    top2 = np.sort(probs_e, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * atol
    assert clear.sum() >= 2, "too few pairs with a clear label to compare"
    assert [g.label for g, c in zip(got, clear, strict=True) if c] == [
        e.label for e, c in zip(expected, clear, strict=True) if c
    ]
