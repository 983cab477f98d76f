"""The Embedder: the direct transformers path gives sentence-transformers' vectors, other
pipelines fall back to sentence-transformers, long sentences are reported."""

from __future__ import annotations

import importlib.util
import json
import logging

import numpy as np
import pytest

from nli_check.embed import Embedder, _direct_plan, _DirectEncoder, _SentenceTransformerEncoder
from nli_check.models import minilm_path

TEXTS = [
    "Russia says it is pulling some troops back from the border.",
    "Ben Wallace said he had seen no evidence of a withdrawal.",
    "Trains carried tanks away from the exercise grounds on Tuesday.",
    "Short.",
]


def _tiny_bert(path):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(path, safe_serialization=True)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(path)
    return path


HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
BACKENDS = ["torch", pytest.param("onnx", marks=pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime not installed"))]


@pytest.fixture(scope="module")
def minilm():
    return Embedder(device="cpu")


def test_default_backend_is_onnx_runtime_where_installed(minilm):
    assert minilm.backend == ("onnx" if HAVE_ORT else "torch")
    assert "backend=" in repr(minilm)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bundled_model_runs_without_sentence_transformers_and_matches_it(backend):
    from sentence_transformers import SentenceTransformer

    minilm = Embedder("all-MiniLM-L6-v2", device="cpu", backend=backend)
    assert isinstance(minilm.encoder, _DirectEncoder) and minilm.backend == backend
    ours = minilm.embed(TEXTS)
    theirs = SentenceTransformer(str(minilm_path()), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_default_embedder_is_the_shipped_pairing_model_and_matches_sentence_transformers():
    import torch
    from sentence_transformers import SentenceTransformer

    from nli_check.models import DEFAULT_EMBEDDER, shipped_model_path

    folder = shipped_model_path(DEFAULT_EMBEDDER)
    assert folder is not None and (folder / "model.safetensors").exists()
    default = Embedder(device="cpu", backend="torch")
    assert (default.name, default.source) == (DEFAULT_EMBEDDER, str(folder))
    ours = default.embed(TEXTS)
    # Weights are stored in fp16; sentence-transformers would keep them so unless told.
    theirs = SentenceTransformer(str(folder), device="cpu", model_kwargs={"dtype": torch.float32})
    np.testing.assert_allclose(ours, theirs.encode(TEXTS, normalize_embeddings=True), atol=1e-5)
    stock = Embedder("all-MiniLM-L6-v2", device="cpu", backend="torch").embed(TEXTS)
    assert np.abs(ours - stock).max() > 0.01  # trained weights, not the stock ones


def test_results_do_not_depend_on_batching(minilm):
    small = Embedder(device="cpu", batch_size=1, backend=minilm.backend)
    np.testing.assert_allclose(small.embed(TEXTS), minilm.embed(TEXTS), atol=1e-5)


def test_a_sentence_past_the_token_limit_is_reported(minilm, caplog):
    long = " ".join(["troops"] * 400)
    with caplog.at_level(logging.WARNING, logger="nli_check.embed"):
        minilm.embed([long, "Short."])
    assert "1 sentence(s) longer than the embedding model's 256 tokens" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nli_check.embed"):
        minilm.embed(TEXTS)
    assert caplog.text == ""


def test_plan_accepts_only_pipelines_it_reproduces(tmp_path):
    assert _direct_plan(minilm_path()) == {"pooling": "mean", "max_length": 256, "lower_case": False}
    folder = tmp_path / "m"
    (folder / "1_Pooling").mkdir(parents=True)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert _direct_plan(folder)["pooling"] == "cls"
    # The newer way of saving: other module paths, "pooling_mode", a default prompt.
    modules[0]["type"] = "sentence_transformers.base.modules.transformer.Transformer"
    modules[1]["type"] = "sentence_transformers.sentence_transformer.modules.pooling.Pooling"
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "mean"}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 128}))
    assert _direct_plan(folder) == {"pooling": "mean", "max_length": 128, "lower_case": False}
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"default_prompt_name": "query"}))
    assert _direct_plan(folder) is None  # prompts are sentence-transformers' business
    (folder / "config_sentence_transformers.json").unlink()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    assert _direct_plan(folder) is None  # max pooling: left to sentence-transformers
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    (folder / "modules.json").write_text(json.dumps([*modules, dense]))
    assert _direct_plan(folder) is None
    assert _direct_plan(tmp_path / "absent") is None


def test_other_pipelines_run_on_sentence_transformers(tmp_path):
    from sentence_transformers import SentenceTransformer, models

    bert = _tiny_bert(tmp_path / "bert")
    transformer = models.Transformer(str(bert), max_seq_length=32)
    pooling = models.Pooling(16, pooling_mode="max")
    dense = models.Dense(16, 8)
    folder = tmp_path / "st"
    SentenceTransformer(modules=[transformer, pooling, dense], device="cpu").save(str(folder))
    embedder = Embedder(folder, device="cpu")
    assert isinstance(embedder.encoder, _SentenceTransformerEncoder)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 8)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_mean_pooling_model_saved_by_sentence_transformers_runs_direct_and_matches(tmp_path):
    from sentence_transformers import SentenceTransformer, models

    bert = _tiny_bert(tmp_path / "bert")
    st = SentenceTransformer(
        modules=[models.Transformer(str(bert), max_seq_length=16), models.Pooling(16, "mean")],
        device="cpu",
    )
    folder = tmp_path / "st"
    st.save(str(folder))
    embedder = Embedder(folder, device="cpu")
    assert isinstance(embedder.encoder, _DirectEncoder) and embedder.encoder.max_length == 16
    # Past 16 tokens both truncate the same way; the direct path normalises, as Embedder promises.
    np.testing.assert_allclose(embedder.embed(TEXTS), st.encode(TEXTS, normalize_embeddings=True), atol=1e-5)


@pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime not installed")
def test_an_unwritable_onnx_cache_is_one_clear_error(tmp_path, monkeypatch):
    from nli_check.errors import NLICheckError

    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("NLI_CHECK_CACHE", str(tmp_path / "file"))
    monkeypatch.setattr("nli_check.embed._CACHE", {})
    with pytest.raises(NLICheckError) as info:
        Embedder(device="cpu", backend="onnx")
    message = str(info.value)
    assert message.startswith("cannot create the ONNX cache") and "set NLI_CHECK_CACHE" in message
    assert "sentence-transformers directory" not in message
