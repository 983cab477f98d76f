"""Pairing-embedder training: positives from both entailment and contradiction, dev texts kept
out, on-topic hard negatives, a real (tiny) SentenceTransformerTrainer run whose saved model runs
on the fast embedding path, and the CLI around it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nli_check.cli import cli
from nli_check.embedder_training import EmbedderTrainConfig, _mine_bm25, build_pairs
from nli_check.errors import NLICheckError

TOPICS = ["troops", "harvest", "bridge", "election", "vaccine", "river", "factory", "museum"]


def _rows(n: int, offset: int = 0) -> list[dict]:
    rows = []
    for i in range(offset, offset + n):
        topic = TOPICS[i % len(TOPICS)]
        premise = f"Report {i}: the {topic} story number {i} was confirmed by officials in 2019."
        rows.append({"premise": premise, "hypothesis": f"The {topic} story {i} was confirmed in 2019.",
                     "label": "entailment"})
        rows.append({"premise": premise, "hypothesis": f"The {topic} story {i} was never confirmed.",
                     "label": "contradiction"})
        rows.append({"premise": premise, "hypothesis": f"Officials like the {topic} story {i}.",
                     "label": "neutral"})
    return rows


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in _rows(40)) + "\n")
    (folder / "dev.jsonl").write_text("\n".join(json.dumps(r) for r in _rows(3, offset=100)) + "\n")
    return folder


def _config(data_dir: Path, tmp_path: Path, **extra) -> EmbedderTrainConfig:
    values = dict(data_dir=str(data_dir), train=["train.jsonl"], dev=["dev.jsonl"], batch_size=8,
                  output_dir=str(tmp_path / "out"), checkpoint_dir=str(tmp_path / "ckpt"), device="cpu")
    values.update(extra)
    return EmbedderTrainConfig.from_dict(values)


def test_config_refuses_what_cannot_train(tmp_path):
    for bad, message in [({"loss": "triplet"}, "loss must be one of"), ({"batch_size": 1}, "in-batch negatives"),
                         ({"hard_negative_miner": "guess"}, "hard_negative_miner"), ({"bogus": 1}, "unknown config")]:
        with pytest.raises(NLICheckError, match=message):
            EmbedderTrainConfig.from_dict({"train": ["x.jsonl"], **bad})


def test_positives_are_entailments_and_contradictions_never_dev_texts(data_dir, tmp_path):
    # a training row that repeats a dev claim must be dropped
    rows = _rows(40) + [{"premise": "Some other evidence entirely.", "hypothesis": "The vaccine story 100 was "
                         "confirmed in 2019.", "label": "entailment"}]
    (data_dir / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pairs = build_pairs(_config(data_dir, tmp_path, date_edits=20))
    assert pairs.dropped_dev_overlap == 1
    assert len(pairs.anchors) == 80 + pairs.augmented["date_edits"] and pairs.augmented["date_edits"] > 0
    assert not any(a.startswith("Officials like") for a in pairs.anchors)  # neutral pairs are not positives
    assert sum("never confirmed" in a for a in pairs.anchors) == 40  # contradictions are
    assert not any("story 10" in a and "story 10 " not in a for a in pairs.anchors)  # no dev claim
    assert build_pairs(_config(data_dir, tmp_path)).anchors[:5] == build_pairs(_config(data_dir, tmp_path)).anchors[:5]


def test_generated_news_pairs_add_only_same_subject_positives(data_dir, tmp_path):
    from nli_check.augment import event_pairs, opposite_pairs

    pairs = build_pairs(_config(data_dir, tmp_path, opposite_pairs=200, event_pairs=200))
    assert pairs.augmented["opposite_pairs"] > 0 and pairs.augmented["event_pairs"] > 0
    assert len(pairs.anchors) == 80 + pairs.augmented["opposite_pairs"] + pairs.augmented["event_pairs"]
    made = {(p.hypothesis, p.premise): p.label for p in [*opposite_pairs(200, seed=13), *event_pairs(200, seed=13)]}
    generated = [made[key] for key in zip(pairs.anchors, pairs.positives) if key in made]
    assert len(generated) == pairs.augmented["opposite_pairs"] + pairs.augmented["event_pairs"]
    assert set(generated) == {"entailment", "contradiction"}  # another subject or event is never a positive


def test_bm25_negatives_are_on_topic_and_never_the_claims_own_evidence(data_dir, tmp_path):
    import datasets

    config = _config(data_dir, tmp_path, hard_negative_range_max=5)
    pairs = build_pairs(config)
    mined = _mine_bm25(config, datasets.Dataset.from_dict({"anchor": pairs.anchors, "positive": pairs.positives}))
    assert mined.column_names == ["anchor", "positive", "negative"] and len(mined) == len(pairs.anchors)
    own = {}
    for a, p in zip(pairs.anchors, pairs.positives):
        own.setdefault(a, set()).add(p)
    on_topic = 0
    for row in mined:
        assert row["negative"] not in own[row["anchor"]]
        topic = next(t for t in TOPICS if t in row["anchor"])
        on_topic += topic in row["negative"]
    assert on_topic / len(mined) > 0.8  # shares the claim's words: same topic, another matter


def _tiny_sentence_model(path: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    from nli_check.models import minilm_path

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=128)
    BertModel(config).save_pretrained(path / "bert", safe_serialization=True)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(path / "bert")
    transformer = models.Transformer(str(path / "bert"), max_seq_length=100)
    modules = [transformer, models.Pooling(16, "mean"), models.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(path / "st"))
    return path / "st"


@pytest.mark.slow
def test_tiny_run_trains_saves_fp16_and_runs_on_the_fast_path(data_dir, tmp_path):
    from safetensors import safe_open

    from nli_check.embed import Embedder, _DirectEncoder

    base = _tiny_sentence_model(tmp_path / "base")
    config = tmp_path / "recipe.toml"
    config.write_text('train = ["train.jsonl"]\ndev = ["dev.jsonl"]\n')
    args = ["train-embedder", "--config", config, "--data-dir", data_dir, "--base-model", base,
            "-o", tmp_path / "out", "--checkpoint-dir", tmp_path / "ckpt", "--batch-size", "8", "--device", "cpu",
            "--set", "checkpoint_every=2", "--set", "train_layers=1", "--set", "max_length=32",
            "--set", "date_edits=5"]
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["examples"] > 80 and summary["global_step"] == -(-summary["examples"] // 8)
    out = tmp_path / "out"
    assert (out / "modules.json").exists() and (out / "2_Normalize").is_dir()
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        assert {str(weights.get_tensor(k).dtype) for k in weights.keys()} == {"torch.float16"}
    record = json.loads((out / "training_record.json").read_text())
    assert record["columns"] == ["anchor", "positive", "negative"] and record["loss"] == "mnrl"
    # weights moved (the bottom layer stayed frozen, the top one trained)
    from safetensors.torch import load_file

    before = load_file(str(base / "model.safetensors"))
    after = load_file(str(out / "model.safetensors"))
    assert not np.allclose(before["encoder.layer.1.output.dense.weight"].numpy(),
                           after["encoder.layer.1.output.dense.weight"].float().numpy())
    assert np.allclose(before["encoder.layer.0.output.dense.weight"].numpy(),
                       after["encoder.layer.0.output.dense.weight"].float().numpy(), atol=1e-3)
    embedder = Embedder(out, device="cpu", backend="torch")
    assert isinstance(embedder.encoder, _DirectEncoder)
    assert embedder.encoder.max_length == 100  # the base's limit, not the shorter training one
    vectors = embedder.embed(["The troops story 1 was never confirmed.", "Report 1: the troops story."])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # checkpoints of this run are kept apart; a second run must not silently mix with them
    again = CliRunner().invoke(cli, [str(a) for a in args])
    assert again.exit_code == 1 and "--resume" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.slow
def test_a_checkpoint_of_a_run_stopped_early_is_exported_as_the_model(data_dir, tmp_path):
    base = _tiny_sentence_model(tmp_path / "base")
    config = tmp_path / "recipe.toml"
    config.write_text('train = ["train.jsonl"]\ndev = ["dev.jsonl"]\n')
    common = ["train-embedder", "--config", config, "--data-dir", data_dir, "--base-model", base,
              "--checkpoint-dir", tmp_path / "ckpt", "--batch-size", "8", "--device", "cpu",
              "--set", "checkpoint_every=3", "--set", "max_length=32", "--set", "hard_negatives=false"]
    trained = CliRunner().invoke(cli, [str(a) for a in [*common, "-o", tmp_path / "out"]], catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    args = [*common, "-o", tmp_path / "early", "--export-checkpoint", tmp_path / "ckpt" / "checkpoint-9"]
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["global_step"] == 9 and summary["examples_seen"] == 72  # the last two are kept
    record = json.loads((tmp_path / "early" / "training_record.json").read_text())
    assert record["exported_from_checkpoint"] == "checkpoint-9" and record["max_steps"] == 10
    from nli_check.embed import Embedder, _DirectEncoder

    assert isinstance(Embedder(tmp_path / "early", device="cpu", backend="torch").encoder, _DirectEncoder)
    bad = CliRunner().invoke(cli, [str(a) for a in [*common, "-o", tmp_path / "x", "--export-checkpoint", data_dir]])
    assert bad.exit_code == 1 and "not a checkpoint" in bad.stderr and "Traceback" not in bad.stderr
