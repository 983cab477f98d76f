"""A run in legs ends where one run ends; frozen layers stay fixed; sharded weights load; the GPU
script's code path runs on the CPU with a tiny config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, build_tiny_nli_model
from test_training import synthetic_rows, write_jsonl

from nli_check.errors import NLICheckError
from nli_check.training import TrainConfig, train


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("legs-data")
    return (write_jsonl(root / "a.jsonl", synthetic_rows(160)),
            write_jsonl(root / "b.jsonl", synthetic_rows(80, 2)),
            write_jsonl(root / "dev.jsonl", synthetic_rows(45, 1)),
            write_jsonl(root / "cal.jsonl", synthetic_rows(30, 3)))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_tiny_nli_model(tmp_path_factory.mktemp("legs-base"), id2label={0: "LABEL_0", 1: "LABEL_1"})


def make_config(out: Path, base: Path, files, **kw) -> TrainConfig:
    a, b, dev, cal = files
    values = dict(base_model=str(base), output_dir=str(out), train=[str(a), {"path": str(b), "weight": 1.5}],
                  dev=[str(dev)], calibration=[str(cal)], epochs=2, learning_rate=1e-3, batch_size=32,
                  batch_tokens=256, max_length=32, warmup_ratio=0.0, checkpoint_every=1000, device="cpu",
                  freeze_embeddings=False, early_stopping_patience=10, symmetric_contradictions=False)
    values.update(kw)
    return TrainConfig(**values)


def weights(path: Path) -> dict:
    from safetensors.numpy import load_file

    out = {}
    for shard in sorted(path.glob("*.safetensors")):
        out.update(load_file(str(shard)))
    return out


@pytest.mark.slow
def test_legs_end_where_one_run_ends_and_each_is_recorded(tmp_path, base, files):
    # Without dev sets every evaluation keeps the model, so the saved model is the last one.
    clean = train(make_config(tmp_path / "clean", base, files, dev=[]))
    total = clean["global_step"]
    cfg = make_config(tmp_path / "legs", base, files, dev=[])
    first = train(cfg, max_minutes=0.001)
    assert not first["finished"] and 1 <= first["global_step"] < total
    assert first["legs"][0]["ended"] == "time limit" and first["legs"][0]["dev"]["step"] == first["global_step"]
    assert (tmp_path / "legs" / "checkpoint" / "state.json").exists()
    assert (tmp_path / "legs" / "prepared-data" / "prepared.json").exists()  # the next leg reads it
    with pytest.raises(NLICheckError, match=r"differs .*\(learning_rate\)"):
        train(make_config(tmp_path / "legs", base, files, dev=[], learning_rate=2e-3), resume=True)
    # a leg may change when it checkpoints or evaluates, not what it learns
    cfg.checkpoint_minutes = 5.0
    second = train(cfg, resume=True)
    assert second["finished"] and second["global_step"] == total == second["total_steps"]
    legs = second["legs"]
    assert [leg["ended"] for leg in legs] == ["time limit", "finished"]
    assert not (tmp_path / "legs" / "prepared-data").exists() and not (tmp_path / "legs" / "checkpoint").exists()
    assert sum(leg["steps"] for leg in legs) == total
    assert sum(leg["pairs"] for leg in legs) == second["pairs_seen"] == clean["pairs_seen"]
    a_used, b_used = (source["rows_used"] for source in second["train_sources"])
    assert second["pairs_per_epoch"] == a_used + b_used + round(0.5 * b_used) > 0
    speed = legs[1]["speed"]
    assert speed["pairs_per_second"] > 0 and speed["by_length"]
    assert second["calibration_sources"][0]["rows_used"] == 30
    assert second["dropped_dev_overlap"] > 0  # the synthetic files share pairs with the calibration set
    a, b = weights(tmp_path / "clean"), weights(tmp_path / "legs")
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)


def test_frozen_layers_stay_fixed_and_sharded_weights_load(tmp_path, base, files, tiny_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from nli_check.nli import NLIModel

    cfg = make_config(tmp_path / "m", base, files, epochs=1, freeze_layers=1, max_shard_size="200KB",
                      save_dtype="float16", baseline_model=str(tiny_model_dir))
    record = train(cfg)
    out = Path(cfg.output_dir)
    shards = sorted(out.glob("*.safetensors"))
    assert len(shards) > 1 and (out / "model.safetensors.index.json").exists()
    index = json.loads((out / "model.safetensors.index.json").read_text())["weight_map"]
    for shard in shards:
        tensors = [k for k, v in index.items() if v == shard.name]
        assert shard.stat().st_size <= 200_000 or len(tensors) == 1, (shard.name, tensors)
    assert record["baseline"]["model"] == str(tiny_model_dir) and record["baseline"]["mean_dev_accuracy"] is not None
    trained, start = weights(out), weights(base)
    layer0 = "bert.encoder.layer.0.attention.self.query.weight"
    layer1 = "bert.encoder.layer.1.attention.self.query.weight"
    np.testing.assert_allclose(trained[layer0].astype(np.float32), start[layer0], atol=1e-3)
    assert np.abs(trained[layer1].astype(np.float32) - start[layer1]).max() > 1e-3

    pairs = [("the cat is red today.", "the cat is red."), ("a dog is late today today.", "a dog is not late.")]
    ours = NLIModel(out, device="cpu").predict_proba(pairs)
    tok = AutoTokenizer.from_pretrained(out)
    hf = AutoModelForSequenceClassification.from_pretrained(out, use_safetensors=True, dtype=torch.float32)
    probs = hf(**tok([p for p, _ in pairs], [h for _, h in pairs], return_tensors="pt", padding=True)).logits
    probs = probs.softmax(-1).detach().numpy()
    order = [hf.config.label2id[name] for name in ("contradiction", "entailment", "neutral")]
    np.testing.assert_allclose(ours, probs[:, order], atol=1e-5)


@pytest.mark.slow
def test_gpu_script_runs_its_code_path_on_the_cpu(tmp_path, base, files):
    """scripts/train_gpu.sh with a tiny config and DEVICE=cpu: train, calibrate, evaluate."""
    cfg = make_config(tmp_path / "unused", base, files, epochs=1)
    config_file = tmp_path / "tiny.json"
    config_file.write_text(json.dumps(cfg.to_dict(), default=str), encoding="utf-8")
    out = tmp_path / "gpu-run"
    env = dict(os.environ, CONFIG=str(config_file), DATA_DIR=str(tmp_path), DEVICE="cpu", MINUTES="5",
               SHARD="200KiB", BATCH_SIZE="16", BATCH_TOKENS="512", LEARNING_RATE="1e-3",
               NLI=f"{sys.executable} -m nli_check -q", HF_HUB_OFFLINE="1")
    done = subprocess.run(["bash", str(REPO / "scripts" / "train_gpu.sh"), str(out)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "gpu-run.train.json").read_text())
    assert summary["finished"] and summary["steps"] > 0
    shards = list(out.glob("*.safetensors"))
    assert len(shards) > 1
    index = json.loads((out / "model.safetensors.index.json").read_text())["weight_map"]
    for shard in shards:  # KiB counts in 1024s, as the script's default 16MiB does
        assert shard.stat().st_size <= 200 * 1024 or sum(v == shard.name for v in index.values()) == 1
    assert json.loads((out / "calibration.json").read_text())["temperature"] > 0
    metrics = json.loads((out / "dev_metrics.json").read_text())
    assert metrics["sets"][0]["pairs"] == 45
    record = json.loads((out / "training_record.json").read_text())
    assert record["config"]["batch_size"] == 16 and record["config"]["max_shard_size"] == "200KiB"
