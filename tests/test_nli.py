"""``NLIModel``: windows over long evidence, the window that decides, label names, and loading
that never runs a model's own code."""

from __future__ import annotations

import json

import pytest
from scripted import probs

from nli_check.errors import NLICheckError
from nli_check.labels import map_model_labels
from nli_check.nli import NLIModel, _spans

FILLER = " ".join(
    f"Paragraph {i} of the report describes the weather near the river crossing at dawn." for i in range(10)
)
DENIAL = "The defence secretary said he had seen no evidence of withdrawal."
HYPOTHESIS = "Russian troops are withdrawing from the border."


def _tokens(model, text):
    return model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)


def _count(model, text) -> int:
    return len(_tokens(model, text)["input_ids"])


def _span_tokens(model, text: str, part: str) -> tuple[int, int]:
    """The token range ``[first, last)`` of ``part``, an exact substring of ``text``."""
    start = text.index(part)
    offsets = _tokens(model, text)["offset_mapping"]
    first = next(i for i, (a, _) in enumerate(offsets) if a >= start)
    last = max(i for i, (_, b) in enumerate(offsets) if b <= start + len(part)) + 1
    return first, last


# ---------------------------------------------------------------------------- _spans
def test_spans_overlap_by_the_stride_and_reach_the_end():
    text = "a b c d e f g h i j"
    offsets = [(i, i + 1) for i in range(0, len(text), 2)]  # one token per letter
    assert _spans(text, offsets, 4, 0.5) == ["a b c d", "c d e f", "e f g h", "g h i j"]
    assert _spans(text, offsets, 4, 0.75) == ["a b c d", "d e f g", "g h i j"]
    assert _spans(text, offsets[:9], 4, 0.5) == ["a b c d", "c d e f", "e f g h", "g h i"]  # a short last step
    assert _spans(text, offsets, 10, 0.5) == [text]
    assert _spans(text, offsets, 3, 0.01) == ["a b c", "b c d", "c d e", "d e f", "e f g", "f g h", "g h i", "h i j"]


# ---------------------------------------------------------------------------- windows
def test_a_pair_that_fits_is_one_window(tiny_model):
    assert tiny_model.windows("Troops left.", "Troops stayed.") == [("Troops left.", "Troops stayed.")]


def test_long_evidence_is_cut_into_overlapping_windows_that_cover_it(tiny_model):
    premise = f"{FILLER} {DENIAL}"
    windows = tiny_model.windows(premise, HYPOTHESIS)
    room = tiny_model.max_length - tiny_model._num_special
    assert len(windows) > 2
    assert all(h == HYPOTHESIS for _, h in windows)  # a short hypothesis stays whole
    for p, h in windows:
        assert p in premise  # an exact substring: whole tokens, no cut words
        assert _count(tiny_model, p) + _count(tiny_model, h) <= room
    ranges = [_span_tokens(tiny_model, premise, p) for p, _ in windows]
    assert ranges[0][0] == 0 and premise.startswith(windows[0][0])
    assert ranges[-1][1] == _count(tiny_model, premise) and premise.endswith(windows[-1][0])
    for (start, end), (next_start, next_end) in zip(ranges, ranges[1:]):
        assert start < next_start, "each window moves on"
        assert next_start < end, "consecutive windows overlap, so no clause is only ever seen cut in two"
        assert end <= next_end
    assert DENIAL in windows[-1][0] and DENIAL not in windows[0][0]


def test_a_long_hypothesis_is_windowed_too(tiny_model):
    hypothesis = " ".join(f"Claim part {i} says the convoy moved north." for i in range(8))
    premise = f"{FILLER} {DENIAL}"
    room = tiny_model.max_length - tiny_model._num_special
    assert _count(tiny_model, hypothesis) > room // 2
    windows = tiny_model.windows(premise, hypothesis)
    hyp_parts = list(dict.fromkeys(h for _, h in windows))
    prem_parts = list(dict.fromkeys(p for p, _ in windows))
    assert len(hyp_parts) > 1 and len(prem_parts) > 1
    assert len(windows) == len(hyp_parts) * len(prem_parts)  # every part of one against every part of the other
    assert hypothesis.startswith(hyp_parts[0]) and hypothesis.endswith(hyp_parts[-1])
    assert premise.startswith(prem_parts[0]) and premise.endswith(prem_parts[-1])
    for p, h in windows:
        assert p in premise and h in hypothesis
        assert _count(tiny_model, h) <= room // 2
        assert _count(tiny_model, p) + _count(tiny_model, h) <= room


def test_a_contradiction_only_a_later_window_holds_is_found(scripted_model):
    model = scripted_model([("no evidence of withdrawal", "withdrawing", probs(contradiction=0.9))])
    premise = f"{FILLER} {DENIAL}"
    [result] = model.predict([(premise, HYPOTHESIS)])
    assert result.windows > 2
    first_window = model.windows(premise, HYPOTHESIS)[0][0]
    assert "no evidence of withdrawal" not in first_window
    # The deciding window's verdict, not the first window's and not an average over windows.
    assert result.label == "contradiction"
    assert result.confidence == pytest.approx(0.9, abs=1e-5)
    assert len(model.seen) == result.windows
    # The same evidence with the denial first: found in the first window as well.
    [early] = model.predict([(f"{DENIAL} {FILLER}", HYPOTHESIS)])
    assert early.label == "contradiction" and early.windows == result.windows


def test_the_most_decided_window_wins_over_undecided_ones(scripted_model):
    model = scripted_model([
        ("Paragraph 0 ", "withdrawing", probs(contradiction=0.3, entailment=0.3)),
        ("Paragraph 8 ", "withdrawing", probs(entailment=0.7)),
    ])
    [result] = model.predict([(FILLER, HYPOTHESIS)])
    assert result.windows > 2
    assert (result.label, round(result.confidence, 5)) == ("entailment", 0.7)


# ---------------------------------------------------------------------------- labels
def test_label_names_are_mapped_from_id2label_in_any_order():
    assert map_model_labels({0: "CONTRADICTION", 1: "Neutral", 2: "entails"}) == {
        "contradiction": 0, "neutral": 1, "entailment": 2,
    }
    assert map_model_labels({0: "supports", 1: "refutes", 2: "not enough info"}) == {
        "entailment": 0, "contradiction": 1, "neutral": 2,
    }
    assert map_model_labels({0: "entailment", 1: "not_entailment", 2: "contradiction"}) == {
        "entailment": 0, "contradiction": 2,
    }


@pytest.mark.parametrize(
    "id2label, meaning",
    [
        ({0: "entailment", 1: "supports", 2: "contradiction"}, "entailment"),
        ({0: "contradiction", 1: "Contradiction", 2: "entailment"}, "contradiction"),
        ({0: "contradiction", 1: "neutral", 2: "entailment", 3: "NEI"}, "neutral"),
    ],
)
def test_two_names_for_one_label_are_refused(id2label, meaning):
    with pytest.raises(NLICheckError, match=f"two labels that both mean {meaning}"):
        map_model_labels(id2label, source="model m")


def test_a_model_with_two_names_for_one_label_is_refused_at_load(tmp_path):
    from conftest import build_tiny_nli_model

    path = build_tiny_nli_model(tmp_path / "m", id2label={0: "entailment", 1: "supports", 2: "contradiction"})
    with pytest.raises(NLICheckError, match="two labels that both mean entailment") as info:
        NLIModel(path, device="cpu")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- remote code
REMOTE_CODE = '''
import os
from pathlib import Path
Path(os.environ["NLI_CHECK_TEST_REMOTE_CODE_RAN"]).write_text("ran")
from transformers import BertConfig, BertForSequenceClassification
class TrapConfig(BertConfig):
    model_type = "bert"
class TrapModel(BertForSequenceClassification):
    config_class = TrapConfig
'''


def test_a_models_own_code_is_never_run(tiny_model_dir, tmp_path, monkeypatch):
    """A model directory that ships code (``auto_map``) loads with the library's own classes:
    nli-check never passes ``trust_remote_code=True`` unless asked."""
    import shutil

    from nli_check.embed import Embedder
    from nli_check.pipeline import check
    from nli_check.types import Document

    path = tmp_path / "with-code"
    shutil.copytree(tiny_model_dir, path)
    (path / "trap.py").write_text(REMOTE_CODE)
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "trap.TrapConfig", "AutoModelForSequenceClassification": "trap.TrapModel",
    }
    (path / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "remote-code-ran"
    monkeypatch.setenv("NLI_CHECK_TEST_REMOTE_CODE_RAN", str(marker))

    model = NLIModel(path, device="cpu", max_length=64, backend="torch")
    assert type(model.model).__name__ == "BertForSequenceClassification"
    assert len(model.predict([("Troops left.", "Troops stayed.")])) == 1
    result = check([Document("a", "Troops left the border.")], [Document("b", "Troops stayed at the border.")],
                   model=str(path), embedder=Embedder(device="cpu"), device="cpu", backend="torch",
                   min_similarity=0.0, show="all", threshold=0.0)
    assert result.pairs_compared == 1
    assert not marker.exists()
