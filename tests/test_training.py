"""Training a tiny model for real: loss falls, the result reloads everywhere, resume is exact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, SHARED, build_tiny_nli_model

from nli_check.cli import cli
from nli_check.errors import NLICheckError
from nli_check.training import TrainConfig, apply_overrides, shard_size_bytes, train

SUBJECTS = ["the cat", "a dog", "the soldier", "the minister", "a tank", "the train", "the bird",
            "a child", "the river", "the army", "a ship", "the judge"]
STATES = ["is red", "is moving", "is asleep", "is at the border", "is happy", "is late", "is open",
          "is small"]


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        s = SUBJECTS[rng.integers(len(SUBJECTS))]
        st = STATES[rng.integers(len(STATES))]
        # Premise length varies independently of the label, so length-grouped batches mix labels.
        premise = f"{s} {st} " + " ".join(["today"] * int(rng.integers(1, 12))) + "."
        kind = i % 3
        if kind == 0:
            rows.append({"premise": premise, "hypothesis": f"{s} {st}.", "label": "entailment"})
        elif kind == 1:
            rows.append({"premise": premise, "hypothesis": f"{s} is not {st[3:]}.", "label": "contradiction"})
        else:
            other = SUBJECTS[(SUBJECTS.index(s) + 1) % len(SUBJECTS)]
            rows.append({"premise": premise, "hypothesis": f"{other} sings.", "label": "neutral"})
    return rows


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-data")
    train = write_jsonl(root / "train.jsonl", synthetic_rows(240))
    return train, write_jsonl(root / "dev.jsonl", synthetic_rows(60, 1))


@pytest.fixture(scope="module")
def base_encoder(tmp_path_factory):
    """A tiny encoder with no NLI labels: training must give it a new 3-label head."""
    path = tmp_path_factory.mktemp("tiny-base")
    build_tiny_nli_model(path, id2label={0: "LABEL_0", 1: "LABEL_1"})
    return path


def config(tmp_path, base, data_files, **kw) -> TrainConfig:
    train_file, dev_file = data_files
    values = dict(base_model=str(base), output_dir=str(tmp_path / "model"), train=[str(train_file)],
                  dev=[str(dev_file)], epochs=8, learning_rate=1e-3, batch_size=16, max_length=32,
                  warmup_ratio=0.0, eval_every=30, checkpoint_every=5, device="cpu", freeze_embeddings=False,
                  early_stopping_patience=10)
    values.update(kw)
    return TrainConfig(**values)


@pytest.mark.slow
def test_loss_goes_down_and_model_reloads_everywhere(tmp_path, base_encoder, data_files):
    from sentence_transformers import CrossEncoder
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from nli_check.nli import NLIModel

    cfg = config(tmp_path, base_encoder, data_files)
    record = train(cfg)
    losses = [h["train_loss"] for h in record["history"]]
    assert losses[-1] < 0.8 * losses[0], losses
    assert record["new_head"] is True
    assert set(record["id2label"].values()) == {"contradiction", "entailment", "neutral"}
    source = record["train_sources"][0]
    assert source["rows_read"] == 240 and len(source["sha256"]) == 64
    out = Path(cfg.output_dir)
    assert (out / "model.safetensors").exists() and not (out / "checkpoint").exists()
    saved_config = json.loads((out / "train_config.json").read_text())
    assert saved_config["learning_rate"] == 1e-3
    assert json.loads((out / "training_record.json").read_text())["best_step"] == record["best_step"]

    pairs = [("the cat is red today today.", "the cat is red."), ("a dog is late today.", "a dog is not late.")]
    ours = NLIModel(out, device="cpu").predict_proba(pairs)
    tok = AutoTokenizer.from_pretrained(out)
    hf = AutoModelForSequenceClassification.from_pretrained(out, use_safetensors=True)
    logits = hf(**tok([p for p, _ in pairs], [h for _, h in pairs], return_tensors="pt", padding=True)).logits
    probs = logits.softmax(-1).detach().numpy()
    order = [hf.config.label2id[name] for name in ("contradiction", "entailment", "neutral")]
    np.testing.assert_allclose(ours, probs[:, order], atol=1e-5)
    ce = CrossEncoder(str(out), device="cpu")
    ce_logits = np.asarray(ce.predict(pairs, apply_softmax=True))
    np.testing.assert_allclose(ours, ce_logits[:, order], atol=1e-5)


@pytest.mark.slow
def test_existing_nli_model_keeps_its_labels(tmp_path, tiny_model_dir, data_files):
    cfg = config(tmp_path, tiny_model_dir, data_files, epochs=1, eval_every=None)
    record = train(cfg)
    assert record["new_head"] is False
    assert record["id2label"] == {"0": "entailment", "1": "neutral", "2": "contradiction"}


def test_dev_pairs_are_dropped_from_training(tmp_path, base_encoder, data_files):
    from nli_check.labels import LABELS
    from nli_check.training import prepare_data

    train_file, dev_file = data_files
    rows = [json.loads(x) for x in train_file.read_text().splitlines()]
    dev_rows = [json.loads(x) for x in dev_file.read_text().splitlines()]
    extra = [r for r in dev_rows if r not in rows][:7]
    mixed = write_jsonl(tmp_path / "mixed.jsonl", rows + extra)
    plain = prepare_data(config(tmp_path, base_encoder, data_files), set(LABELS))
    with_dev = prepare_data(config(tmp_path, base_encoder, (mixed, dev_file)), set(LABELS))
    assert with_dev.dropped_overlap == plain.dropped_overlap + 7
    assert with_dev.premises == plain.premises
    dev_keys = {(r["premise"], r["hypothesis"]) for r in dev_rows}
    assert not dev_keys & set(zip(with_dev.premises, with_dev.hypotheses))


def test_unfinished_run_needs_resume(tmp_path, base_encoder, data_files):
    cfg = config(tmp_path, base_encoder, data_files)
    (Path(cfg.output_dir) / "checkpoint").mkdir(parents=True)
    with pytest.raises(NLICheckError, match="add --resume"):
        train(cfg)
    with pytest.raises(NLICheckError, match="nothing to resume"):
        train(config(tmp_path / "other", base_encoder, data_files), resume=True)


def _write_config(path: Path, cfg: TrainConfig) -> Path:
    path.write_text(json.dumps(cfg.to_dict()), encoding="utf-8")
    return path


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_model(tmp_path, base_encoder, data_files):
    """SIGKILL a real training process after a checkpoint; --resume ends where a clean run ends."""
    from safetensors.numpy import load_file

    clean = config(tmp_path / "clean", base_encoder, data_files, epochs=2, eval_every=None)
    total = train(clean)["global_step"]
    killed = config(tmp_path / "killed", base_encoder, data_files, epochs=2, eval_every=None)
    cfg_file = _write_config(tmp_path / "killed.json", killed)
    env = dict(os.environ, HF_HUB_OFFLINE="1", NLI_CHECK_PAUSE_AT="train:5")
    cmd = [sys.executable, "-m", "nli_check", "-q", "train", "--config", str(cfg_file)]
    log = tmp_path / "train.log"
    with log.open("wb") as stderr:  # the run stops itself once a checkpoint of step >= 5 is saved
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"training ended instead of pausing: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = Path(killed.output_dir) / "checkpoint" / "state.json"
    step = json.loads(state.read_text())["global_step"]
    assert 5 <= step < total
    result = CliRunner().invoke(cli, ["-q", "train", "--config", str(cfg_file), "--resume"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["steps"] == total
    a = load_file(str(Path(clean.output_dir) / "model.safetensors"))
    b = load_file(str(Path(killed.output_dir) / "model.safetensors"))
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)


def test_config_files_overrides_and_validation(tmp_path, base_encoder, data_files):
    toml = tmp_path / "c.toml"
    toml.write_text(f'base_model = "{base_encoder}"\nepochs = 2\n[[train]]\npath = "{data_files[0]}"\nlimit = 10\n')
    cfg = TrainConfig.from_file(toml, ["epochs=4", "train.0.limit=20", "learning_rate=1e-4"])
    assert (cfg.epochs, cfg.train[0].limit, cfg.learning_rate) == (4, 20, 1e-4)
    yaml = tmp_path / "c.yaml"
    yaml.write_text("epochs: 3\ntrain:\n  - path: x.jsonl\n    holdout: 0.2\n")
    assert TrainConfig.from_file(yaml).train[0].holdout == 0.2
    with pytest.raises(NLICheckError, match="unknown config field"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(NLICheckError, match="max_length must be in"):
        TrainConfig(max_length=4)
    with pytest.raises(NLICheckError, match="field=value"):
        apply_overrides({}, ["epochs"])
    with pytest.raises(NLICheckError, match="max_shard_size must be a size such as 16MiB"):
        TrainConfig(max_shard_size="16 potatoes")


@pytest.mark.parametrize("size, expected", [("16MiB", 16 * 2**20), ("200KB", 200_000), ("1.5GB", 1_500_000_000),
                                            ("200 kib", 200 * 1024), (5000, 5000), ("0MB", None), ("MB", None),
                                            (-3, None), (True, None)])
def test_shard_sizes_count_binary_and_decimal_units(size, expected):
    assert shard_size_bytes(size) == expected


def test_train_cli_errors_are_one_line(tmp_path, base_encoder, data_files):
    runner = CliRunner()
    result = runner.invoke(cli, ["train"])
    assert result.exit_code == 2 and "give training files" in result.output
    result = runner.invoke(cli, ["train", str(tmp_path / "nope.jsonl"), "--base-model", str(base_encoder),
                                 "-o", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "data file not found" in result.output and "Traceback" not in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = [")
    result = runner.invoke(cli, ["train", "--config", str(bad)])
    assert result.exit_code == 1 and result.output.startswith("Error: cannot parse")


@pytest.mark.parametrize("recipe", sorted((REPO / "models").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_recipe_loads_and_names_files_that_exist(recipe):
    from nli_check.embedder_training import EmbedderTrainConfig

    kind = EmbedderTrainConfig if recipe.name.startswith("pairing-") else TrainConfig
    config = kind.from_file(recipe)
    assert config.train and config.dev
    data_dir = SHARED / "nli-data"
    if not data_dir.is_dir():
        pytest.skip(f"{data_dir} is absent (a fresh clone): only the recipe's fields were checked")
    for spec in [*config.train, *config.dev, *getattr(config, "calibration", [])]:
        if getattr(spec, "kind", "file") == "cases":
            assert (REPO / spec.path).is_dir(), f"{recipe.name} names {spec.path}, not a folder of the repo"
            continue
        assert (data_dir / spec.path).is_file(), f"{recipe.name} names {spec.path}, which is not in {data_dir}"
