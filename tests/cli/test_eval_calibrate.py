"""``nli-check eval`` and ``nli-check calibrate`` through click's CliRunner."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from nli_check.cli import cli

ROWS = [
    ("Troops are leaving the border.", "Troops are staying at the border.", "contradiction"),
    ("Troops are leaving the border.", "Troops are moving.", "entailment"),
    ("The harvest was good this year.", "It rained a lot in spring.", "neutral"),
    ("The harvest was good this year.", "The harvest was bad this year.", "contradiction"),
    ("Prices rose by four percent.", "Prices went up.", "entailment"),
    ("Prices rose by four percent.", "The minister resigned.", "neutral"),
]
FEVER = [
    ("The bridge opened in 1932.", "The bridge opened in the 1930s.", "SUPPORTS"),
    ("The bridge opened in 1932.", "The bridge never opened.", "REFUTES"),
    ("The river floods every spring.", "The river is always dry.", "REFUTES"),
    ("The river floods every spring.", "The river floods.", "SUPPORTS"),
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def write_jsonl(path, rows, keys=("premise", "hypothesis", "label")):
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(dict(zip(keys, row, strict=True))) + "\n")
    return path


def write_csv(path, rows, header=("evidence", "claim", "verdict")):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture()
def data(tmp_path):
    return write_jsonl(tmp_path / "dev.jsonl", ROWS), write_csv(tmp_path / "fever.csv", FEVER)


@pytest.fixture()
def model_copy(tmp_path, tiny_model_dir):
    """A private copy of the tiny model, so calibrate can write into it."""
    import shutil

    return shutil.copytree(tiny_model_dir, tmp_path / "model")


# ------------------------------------------------------------------ eval
def test_eval_table_for_each_set_and_a_macro_summary(data, tiny_model_dir):
    dev, fever = data
    result = run("eval", dev, fever, "--model", tiny_model_dir, "--device", "cpu")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"model: {tiny_model_dir}")
    header = lines[1].split()
    for column in ("acc", "macro-F1", "ECE", "thr", "pairs/s"):
        assert column in header
    rows = {line.split()[0]: line.split() for line in lines[3:] if line and not line.startswith(("-", "C thr"))}
    assert set(rows) == {"dev", "fever", "macro"}
    assert rows["dev"][1:3] == ["three_way", "6"]
    assert rows["fever"][1:3] == ["two_way", "4"]
    assert rows["fever"][7] == "-"  # no neutral F1 for a two-way set
    assert 0.0 <= float(rows["dev"][3]) <= 1.0
    assert rows["macro"][2] == "10"  # "macro mean" then the pair count
    assert "Traceback" not in result.output


def test_eval_json_and_output_file_parse(data, tiny_model_dir, tmp_path):
    dev, fever = data
    out = tmp_path / "out" / "metrics.json"
    result = run("eval", dev, fever, "--model", tiny_model_dir, "--device", "cpu", "--json", "-o", out)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert json.loads(out.read_text()) == report
    assert [s["name"] for s in report["sets"]] == ["dev", "fever"]
    dev_m, fever_m = report["sets"]
    assert dev_m["pairs"] == 6 and dev_m["kind"] == "three_way"
    assert dev_m["per_class"]["contradiction"]["support"] == 2
    assert sum(map(sum, dev_m["confusion_matrix"]["matrix"])) == 6
    assert fever_m["classes"] == ["contradiction", "entailment"]
    assert 0.0 <= fever_m["contradiction"]["best_threshold"] <= 1.0
    assert report["summary"]["sets"] == 2 and report["summary"]["pairs"] == 10
    assert report["temperature"] == 1.0


def test_eval_plots_writes_pngs(data, tiny_model_dir, tmp_path):
    dev, _ = data
    plots = tmp_path / "plots"
    result = run("eval", dev, "--model", tiny_model_dir, "--device", "cpu", "--plots", plots)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["dev-confusion.png", "dev-pr.png", "dev-reliability.png"]
    for path in plots.iterdir():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_with_a_config_uses_its_full_dev_sets(data, tiny_model_dir, tmp_path):
    dev, fever = data
    config = tmp_path / "train.toml"
    config.write_text(
        f'output_dir = "{tmp_path / "not-trained-yet"}"\n'
        "max_dev_pairs = 2\n"
        '[[dev]]\npath = "dev.jsonl"\nname = "general"\n'
        '[[dev]]\npath = "fever.csv"\nname = "claims"\n',
        encoding="utf-8",
    )
    result = run("eval", "--config", config, "--data-dir", dev.parent, "--model", tiny_model_dir,
                 "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    sets = json.loads(result.stdout)["sets"]
    assert [(s["name"], s["pairs"], s["kind"]) for s in sets] == [("general", 6, "three_way"),
                                                                   ("claims", 4, "two_way")]


def test_eval_with_a_config_defaults_to_the_model_it_trains(data, tiny_model_dir, tmp_path):
    import shutil

    dev, _ = data
    trained = shutil.copytree(tiny_model_dir, tmp_path / "trained")
    config = tmp_path / "train.toml"
    config.write_text(f'output_dir = "{trained}"\n[[dev]]\npath = "{dev}"\n', encoding="utf-8")
    result = run("eval", "--config", config, "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == str(trained)


def test_eval_numeric_labels_with_a_label_map(tmp_path, tiny_model_dir):
    numeric = write_jsonl(tmp_path / "num.jsonl", [(p, h, {"entailment": 0, "neutral": 1, "contradiction": 2}[y])
                                                  for p, h, y in ROWS])
    result = run("eval", numeric, "--model", tiny_model_dir, "--device", "cpu", "--json",
                 "--label-map", "0=entailment,1=neutral,2=contradiction")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sets"][0]["per_class"]["neutral"]["support"] == 2


def _assert_one_line_error(result, *needles):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    for needle in needles:
        assert needle in error_lines[0]
    assert result.stdout == ""


def test_eval_unknown_labels_are_listed(tmp_path, tiny_model_dir):
    bad = write_jsonl(tmp_path / "bad.jsonl", ROWS[:3] + [("A.", "B.", "maybe"), ("C.", "D.", "maybe")])
    result = run("eval", bad, "--model", tiny_model_dir, "--device", "cpu")
    _assert_one_line_error(result, "maybe x2", "rows 4, 5", "--label-map")


def test_eval_missing_column_names_the_columns_that_exist(data, tiny_model_dir):
    dev, _ = data
    result = run("eval", dev, "--model", tiny_model_dir, "--device", "cpu", "--label-col", "gold")
    _assert_one_line_error(result, "no column 'gold'", "premise, hypothesis, label")


def test_eval_numeric_labels_without_a_label_map(tmp_path, tiny_model_dir):
    numeric = write_jsonl(tmp_path / "num.jsonl", [(p, h, i % 3) for i, (p, h, _) in enumerate(ROWS)])
    result = run("eval", numeric, "--model", tiny_model_dir, "--device", "cpu")
    _assert_one_line_error(result, "labels are numbers", "--label-map")


def test_eval_missing_file_and_model_errors(tmp_path, tiny_model_dir, data):
    result = run("eval", tmp_path / "nope.jsonl", "--model", tiny_model_dir, "--device", "cpu")
    _assert_one_line_error(result, "data file not found")
    result = run("eval", data[0], "--model", tmp_path, "--device", "cpu")
    _assert_one_line_error(result, "config.json")


def test_eval_without_data_is_a_usage_error():
    result = run("eval")
    assert result.exit_code == 2
    assert "--config" in result.output


# ------------------------------------------------------------------ calibrate
def test_calibrate_prints_ece_before_and_after_and_stores_the_temperature(data, model_copy):
    from nli_check.nli import NLIModel, read_calibration

    dev, fever = data
    result = run("calibrate", model_copy, dev, fever, "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = result.stdout
    stored = read_calibration(model_copy)
    assert f"temperature  {stored['temperature']:.4f}" in out
    assert f"ECE          {stored['ece_before']:.4f} -> {stored['ece_after']:.4f}" in out
    assert "pairs        10" in out and "fever" in out
    assert stored["nll_after"] <= stored["nll_before"] + 1e-12
    assert [d["name"] for d in stored["data"]] == ["dev", "fever"]
    assert NLIModel(model_copy, device="cpu").temperature == pytest.approx(stored["temperature"])

    # eval now reports the stored temperature
    result = run("eval", dev, "--model", model_copy, "--device", "cpu", "--json")
    assert json.loads(result.stdout)["temperature"] == pytest.approx(stored["temperature"])


def test_calibrate_json_dry_run_and_config(data, model_copy, tmp_path):
    dev, fever = data
    config = tmp_path / "train.toml"
    config.write_text('[[dev]]\npath = "dev.jsonl"\n[[dev]]\npath = "fever.csv"\n', encoding="utf-8")
    result = run("calibrate", model_copy, "--config", config, "--data-dir", dev.parent, "--device", "cpu",
                 "--json", "--dry-run")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pairs"] == 10 and report["temperature"] > 0
    assert "file" not in report
    assert not (model_copy / "calibration.json").exists()


def test_calibrate_bad_data_and_bad_model_dir(tmp_path, model_copy):
    bad = write_jsonl(tmp_path / "bad.jsonl", [("A.", "B.", "maybe")])
    _assert_one_line_error(run("calibrate", model_copy, bad, "--device", "cpu"), "maybe x1", "rows 1")
    numeric = write_jsonl(tmp_path / "num.jsonl", [("A.", "B.", 1)])
    _assert_one_line_error(run("calibrate", model_copy, numeric, "--device", "cpu"), "--label-map")
    good = write_jsonl(tmp_path / "good.jsonl", ROWS)
    _assert_one_line_error(run("calibrate", tmp_path / "missing", good, "--device", "cpu"),
                           "local model directory")
    result = run("calibrate", model_copy)
    assert result.exit_code == 2


def test_help_has_examples():
    for name in ("eval", "calibrate"):
        result = run(name, "--help")
        assert result.exit_code == 0
        assert f"nli-check {name} " in result.output and "Examples" in result.output
    assert "--plots" in run("eval", "--help").output
