"""Claim verdicts: the aggregation rule on hand-made findings, and check() giving every claim one."""

from __future__ import annotations

import json

import pytest
from conftest import DRAFT, SOURCE, build_constant_nli_model

from nli_check.pipeline import check
from nli_check.report import render
from nli_check.types import VERDICTS, ClaimVerdict, Document, Finding, Sentence
from nli_check.verdicts import claim_verdicts, verdict_of

CLAIM = Sentence("Troops are leaving the border.", "draft.txt", 0, 30, 0)


def _ev(text: str, index: int) -> Sentence:
    return Sentence(text, "source.txt", 100 * index, 100 * index + len(text), index)


def _f(label: str, confidence: float, similarity: float = 0.6, index: int = 0) -> Finding:
    rest = (1.0 - confidence) / 2
    probs = {k: rest for k in ("contradiction", "entailment", "neutral")}
    probs[label] = confidence
    return Finding(CLAIM, _ev(f"Evidence {index}.", index), label, confidence, similarity, probs)


def test_no_pairs_is_no_evidence_without_confidence():
    v = verdict_of(CLAIM, [], threshold=0.5)
    assert (v.verdict, v.confidence, v.evidence, v.pairs) == ("no evidence", None, None, 0)


def test_contradicted_takes_the_strongest_contradiction():
    weak, strong = _f("contradiction", 0.7, index=1), _f("contradiction", 0.9, index=2)
    v = verdict_of(CLAIM, [weak, _f("neutral", 0.8, index=3), strong], threshold=0.5)
    assert v.verdict == "contradicted"
    assert v.evidence is strong and v.confidence == pytest.approx(0.9)
    assert (v.pairs, v.contradicting, v.supporting) == (3, 2, 0)


def test_supported_takes_the_strongest_support():
    best = _f("entailment", 0.8, index=1)
    v = verdict_of(CLAIM, [_f("entailment", 0.6, index=2), best], threshold=0.5)
    assert (v.verdict, v.evidence, v.confidence) == ("supported", best, pytest.approx(0.8))


def test_both_sides_are_disputed_with_the_weaker_side_as_confidence():
    against, for_ = _f("contradiction", 0.9, index=1), _f("entailment", 0.7, index=2)
    v = verdict_of(CLAIM, [for_, against], threshold=0.5)
    assert v.verdict == "disputed"
    assert v.evidence is against and v.counter is for_
    assert v.confidence == pytest.approx(0.7)


def test_below_threshold_or_neutral_is_unclear_with_the_most_similar_evidence():
    close = _f("neutral", 0.9, similarity=0.8, index=1)
    weak = _f("contradiction", 0.45, similarity=0.5, index=2)
    v = verdict_of(CLAIM, [weak, close], threshold=0.5)
    assert v.verdict == "unclear"
    assert v.evidence is close
    assert v.confidence == pytest.approx(1 - 0.45)  # the most decisive pair still falls short


def test_claim_verdicts_keep_claim_order_and_give_every_claim_one():
    other = Sentence("The harvest was good.", "draft.txt", 31, 52, 1)
    verdicts = claim_verdicts([CLAIM, other], [_f("contradiction", 0.9)], threshold=0.5)
    assert [v.claim for v in verdicts] == [CLAIM, other]
    assert [v.verdict for v in verdicts] == ["contradicted", "no evidence"]
    assert all(isinstance(v, ClaimVerdict) and v.verdict in VERDICTS for v in verdicts)


# ---------------------------------------------------------------------------- through check()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from nli_check.nli import NLIModel

    return {
        label: NLIModel(build_constant_nli_model(tmp_path_factory.mktemp(label), label), device="cpu",
                        max_length=64)
        for label in ("contradiction", "entailment", "neutral")
    }


@pytest.mark.parametrize("label, verdict", [
    ("contradiction", "contradicted"), ("entailment", "supported"), ("neutral", "unclear"),
])
def test_every_claim_gets_a_verdict_whatever_show(models, embedder, label, verdict):
    # show="support" with a contradiction model lists no finding: the verdicts are still there.
    result = check([DRAFT], [SOURCE], model=models[label], embedder=embedder, device="cpu", show="support")
    assert [v.claim.text for v in result.claims] == [
        "Russia is withdrawing its troops from the Ukrainian border.",
        "The football final ended in a draw after extra time.",
    ]
    withdraw, football = result.claims
    assert withdraw.verdict == verdict
    assert withdraw.evidence.evidence.speaker == "Ben Wallace"
    assert 0.0 <= withdraw.confidence <= 1.0
    assert football.verdict == "no evidence"  # nothing in the source is about football
    assert football.evidence is None and football.confidence is None


def test_threshold_decides_verdicts_too(models, embedder):
    result = check([DRAFT], [SOURCE], model=models["contradiction"], embedder=embedder, device="cpu",
                   threshold=1.0)
    assert result.findings == []
    assert [v.verdict for v in result.claims] == ["unclear", "no evidence"]


def test_every_document_against_every_other_gives_both_sides_a_verdict(models, embedder):
    a = Document("a.txt", "Troops are leaving the border. The harvest was good this year.")
    b = Document("b.txt", "Troops are not leaving the border.")
    result = check([a, b], None, model=models["contradiction"], embedder=embedder, device="cpu")
    verdicts = {(v.claim.source, v.claim.text): v.verdict for v in result.claims}
    assert verdicts == {
        ("a.txt", "Troops are leaving the border."): "contradicted",
        ("a.txt", "The harvest was good this year."): "no evidence",
        ("b.txt", "Troops are not leaving the border."): "contradicted",
    }
    # The findings still list the pair once.
    assert len(result.findings) == 1


def test_verdicts_serialise(models, embedder):
    result = check([DRAFT], [SOURCE], model=models["contradiction"], embedder=embedder, device="cpu")
    data = json.loads(render(result, "json"))
    assert data["verdicts"] == {"contradicted": 1, "disputed": 0, "supported": 0, "unclear": 0,
                                "no evidence": 1}
    assert [c["verdict"] for c in data["claims"]] == ["contradicted", "no evidence"]
    assert data["claims"][0]["evidence"]["evidence"]["speaker"] == "Ben Wallace"
    assert data["documents"]["claims"][0]["name"] == "draft.txt"
    assert len(data["findings"]) == 1


@pytest.mark.slow
def test_shipped_model_gives_every_seed_sentence_a_verdict(shipped_model_dir, embedder, seed_article):
    """The seed article against itself: one verdict per sentence; a claim about nothing in the
    article is ``no evidence``, not dropped."""
    from nli_check.pipeline import load_documents
    from nli_check.text import segment

    [article] = load_documents(seed_article)
    unrelated = Document("unrelated.txt", "The recipe needs two cups of flour and a pinch of salt.")
    result = check([article, unrelated], [article], model=shipped_model_dir, embedder=embedder, device="cpu")
    sentences = segment(article)
    assert len(result.claims) == len(sentences) + 1
    assert [(v.claim.start, v.claim.end) for v in result.claims[:-1]] == [(s.start, s.end) for s in sentences]
    assert all(v.verdict in VERDICTS for v in result.claims)
    assert result.claims[-1].verdict == "no evidence"
    counts = result.verdict_counts()
    assert counts["contradicted"] + counts["disputed"] >= 1  # Moscow's withdrawal against Wallace
    assert sum(counts.values()) == len(result.claims)
