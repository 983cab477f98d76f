"""Reading labelled pairs: formats, column guessing, label normalisation, bad data."""

from __future__ import annotations

import csv
import json

import pytest

from nli_check.data import LabelledPairs, limit_pairs, pair_key, read_pairs, split_pairs
from nli_check.errors import NLICheckError
from nli_check.labels import normalize_label


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path, header, rows, delimiter=","):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROWS = [
    {"premise": "Troops left the border.", "hypothesis": "Troops are at the border.", "label": "contradiction"},
    {"premise": "Troops left the border.", "hypothesis": "Troops moved.", "label": "entailment"},
    {"premise": "Troops left the border.", "hypothesis": "It rained.", "label": "neutral"},
]


@pytest.mark.parametrize(
    "raw, expected",
    [("e", "entailment"), ("N", "neutral"), ("c", "contradiction"), ("SUPPORTS", "entailment"),
     ("REFUTES", "contradiction"), ("NOT ENOUGH INFO", "neutral"), ("NOT_ENOUGH_INFO", "neutral"),
     ("NEI", "neutral"), ("not_entailment", "not_entailment"), ("Contradiction", "contradiction"),
     (0, None), ("maybe", None)],
)
def test_normalize_label(raw, expected):
    assert normalize_label(raw) == expected


def test_reads_jsonl_with_defaults(tmp_path):
    data = read_pairs(write_jsonl(tmp_path / "d.jsonl", ROWS))
    assert data.labels == ["contradiction", "entailment", "neutral"]
    assert data.premises[0] == "Troops left the border."
    assert data.kind == "three_way"
    assert data.sha256 and len(data.sha256) == 64
    assert data.record()["rows_read"] == 3


def test_reads_csv_tsv_parquet_and_saved_dataset(tmp_path):
    import datasets

    header = ["sentence1", "sentence2", "gold_label"]
    rows = [[r["premise"], r["hypothesis"], r["label"][0]] for r in ROWS]
    for name, delimiter in (("d.csv", ","), ("d.tsv", "\t")):
        data = read_pairs(write_csv(tmp_path / name, header, rows, delimiter))
        assert data.labels == ["contradiction", "entailment", "neutral"]
        assert data.columns == ("sentence1", "sentence2", "gold_label")
    ds = datasets.Dataset.from_list([{"evidence": r["premise"], "claim": r["hypothesis"], "verdict": v}
                                     for r, v in zip(ROWS, ["REFUTES", "SUPPORTS", "NEI"])])
    ds.to_parquet(str(tmp_path / "d.parquet"))
    assert read_pairs(tmp_path / "d.parquet").labels == ["contradiction", "entailment", "neutral"]
    ds.save_to_disk(str(tmp_path / "saved"))
    assert len(read_pairs(tmp_path / "saved")) == 3


def test_two_way_and_entailment_vs_not_are_recognised(tmp_path):
    two = write_jsonl(tmp_path / "two.jsonl", [
        {"evidence": "a b c", "claim": "a b", "label": "SUPPORTS"},
        {"evidence": "a b c", "claim": "not a", "label": "REFUTES"},
    ])
    assert read_pairs(two).kind == "two_way"
    rte = write_jsonl(tmp_path / "rte.jsonl", [
        {"premise": "a b c", "hypothesis": "a b", "label": "entailment"},
        {"premise": "a b c", "hypothesis": "d", "label": "not_entailment"},
    ])
    assert read_pairs(rte).kind == "entailment_vs_not"


def test_numeric_labels_need_a_label_map(tmp_path):
    path = write_csv(tmp_path / "n.csv", ["premise", "hypothesis", "label"],
                     [["a b", "a", 0], ["a b", "c", 2]])
    with pytest.raises(NLICheckError, match="--label-map"):
        read_pairs(path)
    data = read_pairs(path, label_map="0=entailment,1=neutral,2=contradiction")
    assert data.labels == ["entailment", "contradiction"]


def test_unknown_labels_are_listed_with_counts_and_rows(tmp_path):
    rows = ROWS + [{"premise": "x", "hypothesis": "y", "label": "maybe"}] * 2 + [
        {"premise": "x", "hypothesis": "y", "label": "perhaps"}]
    with pytest.raises(NLICheckError) as err:
        read_pairs(write_jsonl(tmp_path / "u.jsonl", rows))
    message = str(err.value)
    assert "maybe x2 (rows 4, 5)" in message and "perhaps x1 (row" in message
    assert "\n" not in message


def test_empty_rows_are_skipped_or_refused(tmp_path, caplog):
    rows = ROWS + [{"premise": " ", "hypothesis": "y", "label": "neutral"}]
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    data = read_pairs(path)
    assert len(data) == 3 and data.skipped_empty == 1
    assert "skipped 1 rows with empty text (rows 4)" in caplog.text
    with pytest.raises(NLICheckError, match="empty premise or hypothesis.*rows 4"):
        read_pairs(path, strict=True)


def test_missing_column_names_the_columns_that_exist(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [{"text": "a", "other": "b", "label": "e"}])
    with pytest.raises(NLICheckError, match="no premise column found among text, other, label"):
        read_pairs(path)
    with pytest.raises(NLICheckError, match="no column 'nope'.*columns are: text, other, label"):
        read_pairs(path, premise_col="nope")


def test_bad_files(tmp_path):
    with pytest.raises(NLICheckError, match="not found"):
        read_pairs(tmp_path / "missing.jsonl")
    odd = tmp_path / "d.xlsx"
    odd.write_text("x")
    with pytest.raises(NLICheckError, match="unknown file type"):
        read_pairs(odd)


def test_split_is_deterministic_disjoint_and_complete():
    premises = [f"premise number {i}" for i in range(400)]
    data = LabelledPairs(premises, [f"h {i}" for i in range(400)], ["neutral"] * 400, name="x")
    dev, train = split_pairs(data, 0.25, "dev"), split_pairs(data, 0.25, "train")
    assert len(dev) + len(train) == 400
    assert not set(dev.premises) & set(train.premises)
    assert 60 < len(dev) < 140
    assert split_pairs(data, 0.25, "dev").premises == dev.premises
    assert len(limit_pairs(data, 50)) == 50
    assert pair_key("The cat, sat.", "OK!") == pair_key("the cat sat", "ok")
