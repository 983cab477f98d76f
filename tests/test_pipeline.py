"""The check pipeline on small real texts, with the real embedding model and tiny NLI models."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import DRAFT, SOURCE

from nli_check.errors import NLICheckError
from nli_check.labels import LABELS
from nli_check.models import DEFAULT_EMBEDDER
from nli_check.pipeline import check, classify_pairs, load_documents
from nli_check.text import denial_text, segment
from nli_check.types import CheckResult, Document, Finding


def _all(claims, evidence, model, embedder, **kwargs) -> CheckResult:
    kwargs = {"show": "all", "threshold": 0.0, "device": "cpu", **kwargs}
    return check(claims, evidence, model=model, embedder=embedder, **kwargs)


def test_related_sentences_are_paired_and_unrelated_are_not(tiny_model, embedder):
    result = _all([DRAFT], [SOURCE], tiny_model, embedder)
    pairs = {(f.claim.text, f.evidence.text) for f in result.findings}
    assert pairs == {(
        "Russia is withdrawing its troops from the Ukrainian border.",
        "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border.",
    )}
    assert result.pairs_compared == 1
    [finding] = result.findings
    assert finding.evidence.speaker == "Ben Wallace"
    assert finding.evidence.polarity == -1
    assert 0.4 <= finding.similarity <= 1.0
    assert set(finding.probabilities) == set(LABELS)
    assert finding.confidence == pytest.approx(finding.probabilities[finding.label])
    assert finding.view in {"sentence", "content"}
    for sentence, doc in ((finding.claim, DRAFT), (finding.evidence, SOURCE)):
        assert doc.text[sentence.start : sentence.end] == sentence.text
    assert result.settings.embedding_model == DEFAULT_EMBEDDER  # the shipped pairing model
    assert result.settings.device == "cpu"


def test_similarity_floor_and_top_k(tiny_model, embedder):
    assert _all([DRAFT], [SOURCE], tiny_model, embedder, min_similarity=0.99).findings == []
    wide = _all([DRAFT], [SOURCE], tiny_model, embedder, min_similarity=0.0, top_k=2)
    assert wide.pairs_compared == 4
    assert len({(f.claim.index, f.evidence.index) for f in wide.findings}) == 4
    narrow = _all([DRAFT], [SOURCE], tiny_model, embedder, min_similarity=0.0, top_k=1)
    # each claim: its top-1 by the whole sentence, and its top-1 by its best view where that differs
    per_claim = Counter(f.claim.index for f in narrow.findings)
    assert narrow.pairs_compared == sum(per_claim.values()) and set(per_claim.values()) <= {1, 2}
    assert narrow.pairs_compared < wide.pairs_compared


def test_a_sentence_keeps_its_own_top_k_when_another_view_ranks_other_evidence_higher():
    from nli_check.pipeline import _merge_views

    sentences = [(0, 0, 0.9), (0, 1, 0.5)]  # claim 0's top-2 by the whole sentences
    contents = [(0, 2, 0.95), (0, 3, 0.92)]  # by what the claim reports: other evidence
    assert _merge_views([(0, sentences), (1, contents)], [], top_k=2) == [
        (0, 2, 0.95), (0, 3, 0.92), (0, 0, 0.9), (0, 1, 0.5)]
    # one pair in two views is listed once, with its best similarity; one view is its own top-k
    assert _merge_views([(0, [(0, 0, 0.4)]), (1, [(0, 0, 0.7)])], [], top_k=2) == [(0, 0, 0.7)]
    assert _merge_views([(0, sentences)], [], top_k=2) == sentences
    assert _merge_views([], [], top_k=2) == []  # no evidence sentences
    # an archive's pairs compete with the evidence's for each view's top-k
    assert _merge_views([(0, sentences)], [[(0, 7, 0.8)]], top_k=2) == [(0, 0, 0.9), (0, 7, 0.8)]


def test_sentences_that_share_rare_words_are_paired_too(tiny_model, embedder):
    draft = Document("draft.txt", "A bank manager was jailed at Wexcombe Crown Court on Thursday.")
    court = "Martin Hale was sentenced at Wexcombe Crown Court on Friday 13 March."
    source = Document("court.txt", f"The bank manager stole money from elderly customers. {court} It rained.")
    by_meaning = _all([draft], [source], tiny_model, embedder, top_k=1, lexical_k=0)
    assert [f.evidence.text for f in by_meaning.findings] == ["The bank manager stole money from elderly customers."]
    both = _all([draft], [source], tiny_model, embedder, top_k=1, lexical_k=1)
    assert both.pairs_compared == 2
    assert {f.evidence.text for f in both.findings} == {"The bank manager stole money from elderly customers.", court}
    # the similarity floor applies to pairs by shared words too
    assert _all([draft], [source], tiny_model, embedder, top_k=1, lexical_k=1,
                min_similarity=0.99).findings == []


def test_findings_in_claim_order_and_filtered_by_show(contradiction_model_dir, embedder):
    from nli_check.nli import NLIModel

    model = NLIModel(contradiction_model_dir, device="cpu", max_length=64)
    draft = Document("d.txt", "Tanks left Crimea by train. Troops are leaving the border. Troops stay.")
    result = check([draft], [SOURCE], model=model, embedder=embedder, min_similarity=0.0, top_k=2,
                   device="cpu")
    assert result.findings and all(f.label == "contradiction" for f in result.findings)
    assert all(f.confidence > 0.99 for f in result.findings)
    starts = [f.claim.start for f in result.findings]
    assert starts == sorted(starts)
    assert result.contradictions == result.findings
    assert check([draft], [SOURCE], model=model, embedder=embedder, show="support",
                 min_similarity=0.0, device="cpu").findings == []
    assert check([draft], [SOURCE], model=model, embedder=embedder, threshold=1.0,
                 min_similarity=0.0, device="cpu").findings == []


def test_classify_pairs_checks_both_directions_and_both_views(tiny_model):
    claims = segment(Document("c", "Moscow said it was withdrawing some forces from the border."))
    evidence = segment(Document("e", "Ben Wallace said he had seen no evidence of withdrawal."))
    [finding] = classify_pairs(tiny_model, claims, evidence, [(0, 0, 0.5)])
    claim, ev = claims[0], evidence[0]
    assert claim.content == "Moscow was withdrawing some forces from the border"
    views = {
        "sentence": (claim.text, ev.text),
        "content": (denial_text(claim), "There is no evidence of withdrawal."),
    }
    probs = {
        (view, direction): tiny_model.predict_proba([pair if direction == "reverse" else pair[::-1]])[0]
        for view, pair in views.items()
        for direction in ("forward", "reverse")
    }
    c, e = LABELS.index("contradiction"), LABELS.index("entailment")
    best_c = max(p[c] for p in probs.values())
    best_e = max(p[e] for key, p in probs.items() if key[1] == "forward")
    # The four predictions differ: the verdict really depends on direction and view.
    assert len({round(float(p[c]), 6) for p in probs.values()}) == 4
    if finding.label == "contradiction":
        assert finding.confidence == pytest.approx(best_c, abs=1e-5)
    elif finding.label == "entailment":
        assert finding.confidence == pytest.approx(best_e, abs=1e-5)
    else:
        assert finding.probabilities["neutral"] == pytest.approx(probs[("sentence", "forward")][2], abs=1e-5)
    assert finding.similarity == 0.5


def test_classify_pairs_keeps_input_order_and_dedupes(tiny_model):
    claims = segment(Document("c", "Troops left. Troops stayed."))
    evidence = segment(Document("e", "Troops left the border. Nobody moved."))
    pairs = [(1, 1, 0.3), (0, 0, 0.9), (1, 0, 0.5), (0, 0, 0.9)]
    findings = classify_pairs(tiny_model, claims, evidence, pairs)
    assert [(f.claim.index, f.evidence.index, f.similarity) for f in findings] == [
        (1, 1, 0.3), (0, 0, 0.9), (1, 0, 0.5), (0, 0, 0.9)
    ]
    assert findings[1] == findings[3]
    assert classify_pairs(tiny_model, claims, evidence, []) == []


def test_long_evidence_is_windowed_not_truncated(tiny_model, embedder):
    long_tail = ", ".join(f"with unit {i} of the brigade reported near the frontier" for i in range(12))
    evidence = Document("long.txt", f"Russian troops were withdrawing from the Ukrainian border {long_tail}.")
    result = _all([DRAFT], [evidence], tiny_model, embedder)
    [finding] = [f for f in result.findings if "withdrawing" in f.claim.text]
    assert finding.evidence.text == evidence.text  # the whole sentence, not a cut
    assert tiny_model.predict([(finding.evidence.text, finding.claim.text)])[0].windows > 1


def test_every_document_against_every_other_never_pairs_within_a_document(tiny_model, embedder):
    a = Document("a.txt", "Troops are leaving the border. Troops are leaving the border region.")
    b = Document("b.txt", "Troops are not leaving the border.")
    c = Document("c.txt", "The harvest was good this year.")
    result = _all([a, b, c], None, tiny_model, embedder)
    assert result.findings
    assert all(f.claim.source != f.evidence.source for f in result.findings)
    keys = [frozenset([(f.claim.source, f.claim.start), (f.evidence.source, f.evidence.start)])
            for f in result.findings]
    assert len(keys) == len(set(keys))  # each unordered pair once
    assert {f.claim.source for f in result.findings} | {f.evidence.source for f in result.findings} == {
        "a.txt", "b.txt"
    }


def test_same_file_as_claims_and_evidence_is_never_paired_with_itself(tiny_model, embedder, tmp_path):
    path = tmp_path / "same.txt"
    path.write_text("Troops are leaving the border. Soldiers are withdrawing from the frontier.\n")
    result = _all([path], [path], tiny_model, embedder, min_similarity=0.0)
    assert result.findings
    assert all((f.claim.start, f.claim.end) != (f.evidence.start, f.evidence.end) for f in result.findings)
    # Each pair of sentences once: A against B, never also B against A.
    spans = [((f.claim.start, f.evidence.start)) for f in result.findings]
    assert len(spans) == len({tuple(sorted(s)) for s in spans})


def test_reads_files_directories_and_encodings(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "b.md").write_text("Second.", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "a.txt").write_text("First.", encoding="utf-8")
    (tmp_path / "docs" / "skip.json").write_text("{}", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("Café au lait.".encode("latin-1"))
    (tmp_path / "bom.txt").write_bytes("\ufeffWith a BOM.".encode())
    docs = load_documents([tmp_path / "docs"])
    assert [d.name.split("docs")[-1] for d in docs] == ["/b.md", "/sub/a.txt"]
    assert load_documents(tmp_path / "latin.txt", encoding="latin-1")[0].text == "Café au lait."
    assert load_documents(tmp_path / "bom.txt")[0].text == "With a BOM."


@pytest.mark.parametrize(
    "make, kwargs, message",
    [
        (lambda p: p / "missing.txt", {}, "no such file or directory"),
        (lambda p: (p / "empty_dir").mkdir() or p / "empty_dir", {}, "holds no .txt or .md files"),
        (lambda p: (p / "blank.txt").write_text("  \n\t\n") and p / "blank.txt", {}, "is empty"),
        (lambda p: (p / "bin.txt").write_bytes(b"\x89PNG\x00\x00\x01") and p / "bin.txt", {},
         "looks like a binary file"),
        (lambda p: (p / "l1.txt").write_bytes("Caf\xe9".encode("latin-1")) and p / "l1.txt", {},
         "is not valid utf-8.*--encoding"),
        (lambda p: (p / "ok.txt").write_text("Fine.") and p / "ok.txt", {"encoding": "klingon"},
         "unknown encoding"),
    ],
)
def test_bad_input_is_refused_with_a_message(tmp_path, make, kwargs, message):
    path = make(tmp_path)
    with pytest.raises(NLICheckError, match=message) as info:
        load_documents([path], **kwargs)
    assert "\n" not in str(info.value)
    assert str(path.name) in str(info.value) or "encoding" in kwargs


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"top_k": 0}, "top-k"),
        ({"lexical_k": -1}, "lexical-k"),
        ({"min_similarity": 1.5}, "min-similarity"),
        ({"min_similarity": -1.1}, "min-similarity"),
        ({"threshold": 2.0}, "threshold"),
        ({"show": "everything"}, "unknown show"),
    ],
)
def test_bad_settings_are_refused_before_any_model_loads(kwargs, message):
    with pytest.raises(NLICheckError, match=message):
        check([DRAFT], [SOURCE], model="/nonexistent/model", **kwargs)


def test_one_document_without_evidence_is_refused():
    with pytest.raises(NLICheckError, match="--evidence"):
        check([DRAFT], model="/nonexistent/model")


def test_findings_serialise(tiny_model, embedder):
    import json

    result = _all([DRAFT], [SOURCE], tiny_model, embedder)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["findings"][0]["claim"]["source"] == "draft.txt"
    assert isinstance(result.findings[0], Finding)
    assert np.isfinite(data["findings"][0]["confidence"])


@pytest.mark.slow
def test_shipped_model_reports_the_seed_contradiction(shipped_model_dir, embedder):
    result = check(["seeds/draft.txt"], ["seeds/sources"], model=shipped_model_dir, embedder=embedder,
                   device="cpu")
    assert any(
        "withdraw" in f.claim.text and f.evidence.speaker and "Wallace" in f.evidence.speaker
        for f in result.contradictions
    )


@pytest.mark.slow
def test_the_demo_reports_no_false_contradiction(shipped_model_dir, embedder):
    """In the README's demo only the defence secretary disputes the withdrawal; Moscow's own
    account ("some units were returning to their bases") agrees with the draft and must not be
    reported at the default threshold."""
    result = check(["seeds/draft.txt"], ["seeds/sources"], model=shipped_model_dir, embedder=embedder,
                   device="cpu")
    assert result.contradictions
    for finding in result.contradictions:
        assert finding.evidence.speaker and "Wallace" in finding.evidence.speaker, (finding.claim.text,
                                                                                    finding.evidence.text)


@pytest.mark.slow
def test_shipped_model_on_the_seed_article_against_itself(shipped_model_dir, embedder, seed_article):
    """Moscow's stated withdrawal against the defence secretary's "no evidence of withdrawal" is
    reported as a contradiction with confidence >= 0.7, and the report stays short (<= 8 pairs)."""
    result = check([seed_article], [seed_article], model=shipped_model_dir, embedder=embedder,
                   device="cpu", threshold=0.7)
    found = result.contradictions
    assert len(found) <= 8, [(f.claim.text, f.evidence.text) for f in found]

    def is_dispute(f):
        texts = {f.claim.text, f.evidence.text}
        moscow = any(t.startswith("Moscow said it was withdrawing") for t in texts)
        wallace = any("no evidence of withdrawal" in t for t in texts)
        return moscow and wallace

    disputes = [f for f in found if is_dispute(f)]
    assert disputes, [(f.claim.text[:60], f.evidence.text[:60], f.confidence) for f in found]
    speakers = {disputes[0].claim.speaker, disputes[0].evidence.speaker}
    assert any(s and "Moscow" in s for s in speakers) and any(s and "Wallace" in s for s in speakers)
