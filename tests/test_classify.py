"""The label of one claim-evidence pair (``classify_pairs``), driven by a scripted model whose
probabilities are set per (premise, hypothesis): contradiction needs both directions of a view
to agree (a restated denial takes its stronger direction), is looked for in both views (whole
sentences, reported contents), support only with the evidence as premise, and a pair whose best
label is not the top label of its own prediction is neutral."""

from __future__ import annotations

import pytest
from scripted import UNSURE, probs

from nli_check.pipeline import check, classify_pairs
from nli_check.text import denial_text, segment
from nli_check.types import Document

CLAIM = "Moscow said it was withdrawing some forces from the border."
EVIDENCE = "Ben Wallace said he had seen no evidence of withdrawal."


@pytest.fixture(scope="module")
def sentences():
    [claim] = segment(Document("draft.txt", CLAIM))
    [evidence] = segment(Document("wire.txt", EVIDENCE))
    return claim, evidence


@pytest.fixture(scope="module")
def texts(sentences):
    """The four texts put to the model: each sentence whole and its reported content."""
    claim, evidence = sentences
    texts = {
        "claim": claim.text,
        "evidence": evidence.text,
        "claim content": denial_text(claim),
        "evidence content": denial_text(evidence),
    }
    assert texts["claim content"] == "Moscow was withdrawing some forces from the border"
    assert texts["evidence content"] == "There is no evidence of withdrawal."
    # No text holds another, so each rule below matches exactly one model input.
    assert all(a == b or a not in b for a in texts.values() for b in texts.values())
    return texts


def verdict(scripted_model, sentences, rules):
    """The finding for the claim against the evidence, and the inputs the model saw."""
    claim, evidence = sentences
    model = scripted_model(rules)
    [finding] = classify_pairs(model, [claim], [evidence], [(0, 0, 0.7)])
    assert finding.similarity == 0.7
    return finding, model.seen


def test_all_four_inputs_are_put_to_the_model_once(scripted_model, sentences, texts):
    finding, seen = verdict(scripted_model, sentences, [])
    assert sorted(seen) == sorted([
        (texts["evidence"], texts["claim"]), (texts["claim"], texts["evidence"]),
        (texts["evidence content"], texts["claim content"]), (texts["claim content"], texts["evidence content"]),
    ])
    assert (finding.label, finding.view) == ("neutral", "sentence")
    assert finding.confidence == pytest.approx(UNSURE["neutral"])


@pytest.mark.parametrize(
    "premise, hypothesis",
    [
        ("evidence content", "claim content"),  # the restated denial against the claim's content
        ("claim content", "evidence content"),  # the same, reversed
    ],
)
def test_a_restated_denial_contradicts_in_either_direction(scripted_model, sentences, texts, premise, hypothesis):
    finding, _ = verdict(scripted_model, sentences, [(texts[premise], texts[hypothesis], probs(0.9, 0.02))])
    assert (finding.label, finding.view) == ("contradiction", "content")
    assert finding.confidence == pytest.approx(0.9)
    assert finding.probabilities == pytest.approx(probs(0.9, 0.02))


@pytest.mark.parametrize(
    "premise, hypothesis",
    [("evidence", "claim"), ("claim", "evidence")],
)
def test_whole_sentences_contradict_only_when_both_directions_agree(scripted_model, sentences, texts, premise,
                                                                    hypothesis):
    one_way, _ = verdict(scripted_model, sentences, [(texts[premise], texts[hypothesis], probs(0.9, 0.02))])
    assert one_way.confidence == pytest.approx((0.9 + UNSURE["contradiction"]) / 2)
    both_ways, _ = verdict(scripted_model, sentences, [
        (texts[premise], texts[hypothesis], probs(0.9, 0.02)),
        (texts[hypothesis], texts[premise], probs(0.7, 0.1)),
    ])
    assert (both_ways.label, both_ways.view) == ("contradiction", "sentence")
    assert both_ways.confidence == pytest.approx(0.8)  # the mean of the two directions
    assert both_ways.probabilities == pytest.approx(probs(0.8, 0.06))


def test_the_strongest_contradiction_over_views_and_directions_is_reported(scripted_model, sentences, texts):
    finding, _ = verdict(scripted_model, sentences, [
        (texts["evidence"], texts["claim"], probs(0.6)),
        (texts["claim content"], texts["evidence content"], probs(0.95)),
        (texts["evidence content"], texts["claim content"], probs(0.7)),
    ])
    assert (finding.label, finding.view, round(finding.confidence, 5)) == ("contradiction", "content", 0.95)


def test_support_counts_only_with_the_evidence_as_premise(scripted_model, sentences, texts):
    forward, _ = verdict(scripted_model, sentences, [(texts["evidence"], texts["claim"], probs(0.0, 0.9))])
    assert (forward.label, forward.view, round(forward.confidence, 5)) == ("entailment", "sentence", 0.9)
    content, _ = verdict(scripted_model, sentences, [
        (texts["evidence content"], texts["claim content"], probs(0.0, 0.8)),
    ])
    assert (content.label, content.view, round(content.confidence, 5)) == ("entailment", "content", 0.8)
    # The claim entailing the evidence says nothing about whether the evidence supports the claim.
    reverse, _ = verdict(scripted_model, sentences, [(texts["claim"], texts["evidence"], probs(0.0, 0.9))])
    assert reverse.label == "neutral"


def test_the_more_probable_of_contradiction_and_support_wins(scripted_model, sentences, texts):
    rules = [
        (texts["evidence"], texts["claim"], probs(0.0, 0.6)),
        (texts["claim content"], texts["evidence content"], probs(0.7)),
    ]
    finding, _ = verdict(scripted_model, sentences, rules)
    assert (finding.label, finding.view, round(finding.confidence, 5)) == ("contradiction", "content", 0.7)
    rules[0] = (texts["evidence"], texts["claim"], probs(0.0, 0.75))
    finding, _ = verdict(scripted_model, sentences, rules)
    assert (finding.label, finding.view, round(finding.confidence, 5)) == ("entailment", "sentence", 0.75)


def test_a_label_that_is_not_its_predictions_top_is_neutral(scripted_model, sentences, texts):
    finding, _ = verdict(scripted_model, sentences, [
        (texts["claim"], texts["evidence"], probs(0.45, 0.05, 0.5)),
        (texts["evidence"], texts["claim"], probs(0.1, 0.3, 0.6)),
    ])
    assert (finding.label, finding.view) == ("neutral", "sentence")
    assert finding.confidence == pytest.approx(0.55)  # the whole sentences' neutral, both directions' mean
    assert finding.probabilities == pytest.approx(probs(0.275, 0.175, 0.55))


def test_check_reports_what_the_model_decides(scripted_model):
    """The whole pipeline (segmenting, frames, embedding, pairing, filtering) around a scripted
    verdict: the seed scenario comes out as "contradiction, 0.9" with both speakers named."""
    from nli_check.embed import Embedder

    model = scripted_model([("no evidence of withdrawal", "Moscow was withdrawing", probs(0.9, 0.02))])
    draft = Document("draft.txt", f"{CLAIM} The harvest was good this year.")
    wire = Document("wire.txt", f"Bananas are a good source of potassium. {EVIDENCE}")
    settings = {"model": model, "embedder": Embedder(device="cpu"), "device": "cpu", "min_similarity": 0.25}
    result = check([draft], [wire], **settings)
    assert result.pairs_compared == 1  # the unrelated sentences are not paired
    [finding] = result.contradictions
    assert (finding.claim.text, finding.evidence.text) == (CLAIM, EVIDENCE)
    assert (finding.claim.speaker, finding.evidence.speaker) == ("Moscow", "Ben Wallace")
    assert (finding.view, round(finding.confidence, 5)) == ("content", 0.9)
    assert result.findings == [finding]
    assert check([draft], [wire], **settings, threshold=0.95).findings == []
    assert check([draft], [wire], **settings, show="support").findings == []


def test_unlike_sentences_contradict_only_when_one_denies_the_other(scripted_model):
    """Below CONTRADICTION_MIN_SIMILARITY a contradiction the model sees between two assertions
    is neutral; a denial of an assertion keeps it down to the lower DISPUTE_MIN_SIMILARITY, as
    embedders put a denial far from what it denies."""
    from nli_check.pipeline import CONTRADICTION_MIN_SIMILARITY, DISPUTE_MIN_SIMILARITY

    [crowd] = segment(Document("draft.txt", "A crowd of 18,400 watched the game."))
    [goals] = segment(Document("report.txt", "Banner scored in the 58th and 77th minutes."))
    model = scripted_model([("58th", "18,400", probs(0.9, 0.02)), ("18,400", "58th", probs(0.9, 0.02))])
    low, high = CONTRADICTION_MIN_SIMILARITY - 0.1, CONTRADICTION_MIN_SIMILARITY + 0.1
    unlike, like = classify_pairs(model, [crowd], [goals], [(0, 0, low), (0, 0, high)])
    assert (unlike.label, like.label) == ("neutral", "contradiction")
    assert like.confidence == pytest.approx(0.9)

    [claim] = segment(Document("draft.txt", CLAIM))
    [evidence] = segment(Document("wire.txt", EVIDENCE))
    assert claim.polarity != evidence.polarity
    model = scripted_model([("no evidence of withdrawal", "Moscow was withdrawing", probs(0.9, 0.02))])
    assert DISPUTE_MIN_SIMILARITY < low
    dispute, remote = classify_pairs(model, [claim], [evidence], [(0, 0, low), (0, 0, DISPUTE_MIN_SIMILARITY - 0.05)])
    assert (dispute.label, dispute.view) == ("contradiction", "content")
    assert remote.label == "neutral"


def test_two_denials_never_contradict_each_other(scripted_model):
    """"A denied that P" and "B denied that Q" agree or speak of different things, whatever the
    model says of them (it takes "It is not true that the mayor of Oakridge would resign" against
    the same of Juniper Bay for a contradiction), and whatever their figures."""
    [juniper] = segment(Document("a.txt", "The mayor of Juniper Bay denied that she would resign."))
    [oakridge] = segment(Document("b.txt", "The mayor of Oakridge denied that she would resign."))
    [forty] = segment(Document("c.txt", "The army denied that 40 people were killed in Tesk."))
    [twelve] = segment(Document("d.txt", "The rebels denied that 12 people were killed in Tesk."))
    assert {s.polarity for s in (juniper, oakridge, forty, twelve)} == {-1}
    model = scripted_model([("Juniper", "Oakridge", probs(0.97, 0.02)), ("Oakridge", "Juniper", probs(0.97, 0.02)),
                            ("40", "12", probs(0.9, 0.05)), ("12", "40", probs(0.9, 0.05))])
    mayors, deaths = classify_pairs(model, [juniper, forty], [oakridge, twelve], [(0, 0, 0.8), (1, 1, 0.9)])
    assert (mayors.label, deaths.label) == ("neutral", "neutral")
    assert deaths.reason  # the figures differ, and the finding says so

    [assertion] = segment(Document("e.txt", "The mayor of Oakridge said that she would resign."))
    assert assertion.polarity == 1
    model = scripted_model([("Juniper", "Oakridge", probs(0.97, 0.02)), ("Oakridge", "Juniper", probs(0.97, 0.02))])
    [one_denies] = classify_pairs(model, [juniper], [assertion], [(0, 0, 0.8)])
    assert one_denies.label == "contradiction"


def test_dates_of_one_event_conflict_below_the_fact_floor_when_the_model_agrees(scripted_model):
    """Between sentences less than FACT_MIN_SIMILARITY similar, differing figures measure
    different things, but days that can't both be right make the model's own contradiction a
    confident one; without the model's contradiction they are not enough. Years apart count as
    figures do: below the floor, they date other events ("built in 1951" / "will close in 2027")."""
    from nli_check.pipeline import FACT_CONFIDENCE, FACT_MIN_SIMILARITY

    [monday] = segment(Document("draft.txt", "The missing walker was found safe on Monday by a rescue team."))
    [tuesday] = segment(Document("police.txt", "He was found alive at around 8am on Tuesday 10 November."))
    [target] = segment(Document("draft.txt", "The council wants 300 new homes in the district."))
    [built] = segment(Document("report.txt", "Only 120 homes were built in the district."))
    [founded] = segment(Document("draft.txt", "The mill was built in 1951 and has always made wool cloth."))
    [winner] = segment(Document("release.txt", "The mill will close its doors in 2027."))
    similarity = FACT_MIN_SIMILARITY - 0.2
    says = [("Monday", "Tuesday", probs(0.6, 0.1)), ("Tuesday", "Monday", probs(0.6, 0.1)),
            ("300", "120", probs(0.6, 0.1)), ("120", "300", probs(0.6, 0.1)),
            ("1951", "2027", probs(0.6, 0.1)), ("2027", "1951", probs(0.6, 0.1))]
    dates, figures, years = classify_pairs(scripted_model(says), [monday, target, founded], [tuesday, built, winner],
                                           [(0, 0, similarity), (1, 1, similarity), (2, 2, similarity)])
    assert (dates.label, dates.confidence) == ("contradiction", FACT_CONFIDENCE)
    assert dates.reason == "Monday vs Tuesday"
    assert (figures.label, figures.reason) == ("neutral", "300 new homes vs 120 homes")
    assert (years.label, years.reason) == ("neutral", "1951 vs 2027")

    unsure = [("Monday", "Tuesday", UNSURE), ("Tuesday", "Monday", UNSURE)]
    [no_model] = classify_pairs(scripted_model(unsure), [monday], [tuesday], [(0, 0, similarity)])
    assert no_model.label == "neutral"


def test_dates_of_sentences_that_share_two_names_conflict_without_the_model(scripted_model):
    """Days of one event conflict down to DATES_NAMED_MIN_SIMILARITY when the two sentences share
    two names or more, whatever the model says; with one name shared, or below that similarity,
    they don't."""
    from nli_check.pipeline import DATES_NAMED_MIN_SIMILARITY, FACT_CONFIDENCE, FACT_MIN_SIMILARITY

    assert DATES_NAMED_MIN_SIMILARITY < FACT_MIN_SIMILARITY
    [wednesday] = segment(Document("draft.txt", "Thieves broke into Harwick Abbey Museum early on Wednesday."))
    [monday] = segment(Document("police.txt", "Officers were called to Harwick Abbey Museum at 3am on Monday 9 March."))
    [one_name] = segment(Document("police.txt", "Officers were called to the Harwick museum at 3am on Monday 9 March."))
    unsure = [("Wednesday", "Monday", UNSURE), ("Monday", "Wednesday", UNSURE)]
    named, one, unlike = classify_pairs(
        scripted_model(unsure), [wednesday], [monday, one_name],
        [(0, 0, DATES_NAMED_MIN_SIMILARITY), (0, 1, DATES_NAMED_MIN_SIMILARITY),
         (0, 0, DATES_NAMED_MIN_SIMILARITY - 0.05)])
    assert (named.label, named.confidence) == ("contradiction", FACT_CONFIDENCE)
    assert named.reason == "Wednesday vs Monday"
    assert one.label == "neutral"
    assert unlike.label == "neutral"


def test_a_state_until_a_day_and_its_opposite_from_that_day_are_not_a_contradiction(scripted_model):
    """"Closed until Friday" / "reopens on Friday 20 February" agree, whatever the model says."""
    [closed] = segment(Document("draft.txt", "The museum will stay closed until Friday."))
    [reopens] = segment(Document("museum.txt", "The museum will reopen to visitors on Friday 20 February."))
    [later] = segment(Document("museum.txt", "The museum will reopen to visitors on Monday 23 February."))
    says = [("closed", "reopen", probs(0.9, 0.05)), ("reopen", "closed", probs(0.9, 0.05))]
    agree, conflict = classify_pairs(scripted_model(says), [closed], [reopens, later], [(0, 0, 0.8), (0, 1, 0.8)])
    assert (agree.label, agree.reason) == ("neutral", "until Friday = on Friday")
    assert conflict.label == "contradiction"


def test_a_rebuttal_of_the_other_speakers_account_is_a_contradiction(scripted_model):
    """"Residents rejected the councillor's account" against what the councillor said is a
    contradiction the model need not see, down to DISPUTE_MIN_SIMILARITY."""
    from nli_check.pipeline import DISPUTE_MIN_SIMILARITY, FACT_CONFIDENCE

    [said] = segment(Document("draft.txt", "Councillor Ann Lee said the café had been warmly welcomed."))
    [rebuttal] = segment(Document("letters.txt", "Residents rejected the councillor's account, saying 30 objections "
                                                 "were lodged."))
    rebutted, unlike = classify_pairs(scripted_model([]), [said], [rebuttal],
                                      [(0, 0, DISPUTE_MIN_SIMILARITY), (0, 0, DISPUTE_MIN_SIMILARITY - 0.05)])
    assert (rebutted.label, rebutted.confidence) == ("contradiction", FACT_CONFIDENCE)
    assert rebutted.reason == "'rejected the councillor's account'"
    assert unlike.label == "neutral"


def test_counts_of_one_noun_conflict_at_a_lower_similarity_than_other_figures(scripted_model):
    """"380 jobs" / "160 jobs" count one thing, so a conflict needs only
    FACT_MIN_SIMILARITY_COUNTS; money needs FACT_MIN_SIMILARITY."""
    from nli_check.pipeline import FACT_CONFIDENCE, FACT_MIN_SIMILARITY, FACT_MIN_SIMILARITY_COUNTS

    assert FACT_MIN_SIMILARITY_COUNTS < FACT_MIN_SIMILARITY
    [jobs] = segment(Document("draft.txt", "The closures cost about 380 jobs, most of them part-time."))
    [lost] = segment(Document("trust.txt", "We estimate that around 160 jobs were lost."))
    [cost] = segment(Document("draft.txt", "The scheme will cost £1.2 million a year."))
    [running] = segment(Document("dfe.txt", "The running cost is estimated at £3.4m a year."))
    between = (FACT_MIN_SIMILARITY_COUNTS + FACT_MIN_SIMILARITY) / 2
    counts, money = classify_pairs(scripted_model([]), [jobs, cost], [lost, running],
                                   [(0, 0, between), (1, 1, between)])
    assert (counts.label, counts.confidence, counts.reason) == (
        "contradiction", FACT_CONFIDENCE, "about 380 jobs vs around 160 jobs")
    assert (money.label, money.reason) == ("neutral", "£1.2 million vs £3.4m")
    [below] = classify_pairs(scripted_model([]), [jobs], [lost], [(0, 0, FACT_MIN_SIMILARITY_COUNTS - 0.05)])
    assert below.label == "neutral"


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("The central bank of Kandor raised interest rates on Tuesday.",
         "The central bank of Kandor left interest rates unchanged on Tuesday.", "'raised' vs 'unchanged'"),
        ("Norvale Energy will close its factory in Northwick.",
         "Norvale Energy has no plans to close its factory in Northwick.", "'close' vs 'no plans to close'"),
    ],
)
def test_opposite_outcomes_make_the_models_contradiction_a_confident_one(scripted_model, first, second, reason):
    """A contradiction the model leans to (its top label, under the threshold) is lifted to
    FACT_CONFIDENCE when the two state opposite outcomes or one denies what the other asserts,
    between sentences at least OPPOSITE_MIN_SIMILARITY similar; never when the model does not
    call it a contradiction."""
    from nli_check.pipeline import FACT_CONFIDENCE, OPPOSITE_MIN_SIMILARITY

    [a] = segment(Document("a.txt", first))
    [b] = segment(Document("b.txt", second))
    leans = [(first, second, probs(0.45, 0.2)), (second, first, probs(0.45, 0.2))]
    [lifted] = classify_pairs(scripted_model(leans), [a], [b], [(0, 0, OPPOSITE_MIN_SIMILARITY)])
    assert (lifted.label, lifted.confidence, lifted.reason) == ("contradiction", FACT_CONFIDENCE, reason)
    [unlike] = classify_pairs(scripted_model(leans), [a], [b], [(0, 0, OPPOSITE_MIN_SIMILARITY - 0.05)])
    assert (unlike.label, unlike.reason) == ("contradiction", None)
    assert unlike.confidence == pytest.approx(0.45)
    [undecided] = classify_pairs(scripted_model([]), [a], [b], [(0, 0, 0.9)])
    assert undecided.label == "neutral"


def test_opposite_outcomes_the_model_only_leans_to_are_a_contradiction(scripted_model):
    """Opposite outcomes ("a record profit" / "a loss") where neutral is the model's top label
    but contradiction is at least OPPOSITE_LEAN and more probable than entailment: a
    contradiction at FACT_CONFIDENCE. Not when entailment is as probable, nor below the lean."""
    from nli_check.pipeline import FACT_CONFIDENCE, OPPOSITE_LEAN, OPPOSITE_MIN_SIMILARITY

    first = "Keystone Pharma reported a record profit for the last quarter."
    second = "Keystone Pharma reported a loss for the last quarter, its first in a decade."
    [a] = segment(Document("a.txt", first))
    [b] = segment(Document("b.txt", second))

    def classified(c: float, e: float, similarity: float = OPPOSITE_MIN_SIMILARITY):
        rules = [(first, second, probs(c, e)), (second, first, probs(c, e))]
        [finding] = classify_pairs(scripted_model(rules), [a], [b], [(0, 0, similarity)])
        return finding

    leaning = classified(0.41, 0.13)
    assert (leaning.label, leaning.confidence, leaning.reason) == ("contradiction", FACT_CONFIDENCE,
                                                                   "'profit' vs 'loss'")
    assert classified(0.3, 0.3).label == "neutral"
    assert classified(OPPOSITE_LEAN - 0.05, 0.1).label == "neutral"
    assert classified(0.41, 0.13, OPPOSITE_MIN_SIMILARITY - 0.05).label == "neutral"
