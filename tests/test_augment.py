"""Generated training pairs: dispute frames, number edits, symmetric contradictions."""

from __future__ import annotations

import re
from collections import Counter

from nli_check.augment import Pair, as_clause, dispute_pairs, number_edits, symmetric_contradictions
from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL

SENTENCES = [
    "The army is withdrawing troops from the border.",
    "Two men are playing chess in a park.",
    "The company reported record profits this year.",
    "A woman is riding a bicycle down the street.",
    "The minister resigned after the vote.",
    "Prices rose sharply in the spring.",
]


def test_clauses_lower_only_common_words():
    assert as_clause("The army is leaving the border.") == "the army is leaving the border"
    assert as_clause("Moscow is pulling back some forces.") == "Moscow is pulling back some forces"
    assert as_clause("Is it raining?") is None
    assert as_clause("Too short.") is None


def test_dispute_frames_label_denials_as_contradiction():
    pairs = dispute_pairs(SENTENCES, 300, seed=1)
    assert len(pairs) > 250
    counts = Counter(p.label for p in pairs)
    assert counts["contradiction"] > counts["entailment"] > 0 and counts["neutral"] > 0
    for p in pairs:
        text = p.premise + " " + p.hypothesis
        if p.label == "contradiction":
            assert any(cue in text for cue in ("no evidence", "denied", "dismissed", "no sign", "rejected",
                                               "not true", "false", "not the case", "no signs"))
            # the plain side states exactly the denied content
            framed, plain = (p.premise, p.hypothesis) if len(p.premise) > len(p.hypothesis) else (
                p.hypothesis, p.premise)
            assert plain[:-1].lower() in framed.lower()
    assert dispute_pairs(SENTENCES, 50, seed=1) == dispute_pairs(SENTENCES, 50, seed=1)


def test_held_out_frames_differ_from_training_frames():
    train = {p.premise.split(" that ")[0] for p in dispute_pairs(SENTENCES, 200, seed=0)}
    held = dispute_pairs(SENTENCES, 200, seed=0, held_out=True)
    assert any("found nothing to suggest" in p.premise + p.hypothesis for p in held)
    assert not any("found nothing to suggest" in t for t in train)


def test_number_edits_change_a_shared_number():
    pairs = [Pair("Police arrested 12 people on Sunday.", "12 people were arrested.", "entailment"),
             Pair("In 2014 the deal was signed.", "The deal was signed in 2014.", "entailment"),
             Pair("Police arrested 12 people.", "Nobody was arrested.", "contradiction")]
    edits = number_edits(pairs, 10, seed=0)
    assert len(edits) == 1  # years are left alone, non-entailment pairs too
    assert edits[0].label == "contradiction" and "12" not in edits[0].hypothesis


def test_symmetric_contradictions_swap_only_contradictions():
    pairs = [Pair("a", "b", "contradiction"), Pair("c", "d", "entailment")]
    assert symmetric_contradictions(pairs) == [Pair("b", "a", "contradiction")]


def test_event_pairs_teach_event_identity_and_figures():
    from nli_check.augment import event_pairs
    from nli_check.facts import compare

    pairs = event_pairs(300, seed=1)
    labels = Counter(p.label for p in pairs)
    assert labels[NEUTRAL] > 60 and labels[CONTRADICTION] > 60 and labels[ENTAILMENT] > 40
    assert event_pairs(300, seed=1) == pairs
    for pair in pairs:
        assert pair.premise != pair.hypothesis
        assert pair.hypothesis[0].isupper() or pair.hypothesis[0].isdigit() or pair.hypothesis[0] == "£"
    # The same figure said another way reads as agreeing figures, never as a conflict.
    for pair in (p for p in pairs if p.label == ENTAILMENT):
        result = compare(pair.premise, pair.hypothesis)
        assert result is None or result.kind == "agree", (pair, result)


def test_opposite_pairs_oppose_one_subject_and_leave_other_subjects_neutral():
    from nli_check import augment
    from nli_check.augment import OPPOSITE_STATES, opposite_pairs

    pairs = opposite_pairs(600, seed=2)
    labels = Counter(p.label for p in pairs)
    assert labels[CONTRADICTION] > 150 and labels[ENTAILMENT] > 100 and labels[NEUTRAL] > 100
    assert opposite_pairs(600, seed=2) == pairs and opposite_pairs(600, seed=3) != pairs

    def pattern(template):
        return ".+".join(re.escape(part) for part in re.split(r"\{\w+\}", template))

    def states(sentence):
        """Every (family, side) whose subject and state the sentence can be read as."""
        found = set()
        for family, (subjects, one, other) in enumerate(OPPOSITE_STATES):
            for side, phrasings in enumerate((one, other)):
                for subject in subjects:
                    for phrasing in phrasings:
                        if re.fullmatch(f"{pattern(subject)} {pattern(phrasing)}\\.", sentence, flags=re.I):
                            found.add((family, side))
        assert found, sentence
        return found

    for pair in pairs:
        assert pair.premise != pair.hypothesis and pair.premise[0].isupper() and pair.hypothesis[0].isupper()
        a, b = states(pair.premise), states(pair.hypothesis)
        if pair.label == CONTRADICTION:
            assert any(fa == fb and sa != sb for fa, sa in a for fb, sb in b), pair
        elif pair.label == ENTAILMENT:
            assert a & b, pair
    # A neutral pair is about another subject: another place, person or organisation.
    names = (*augment._PLACES, *augment._PEOPLE, *augment._ORGS)
    for pair in (p for p in pairs if p.label == NEUTRAL):
        assert {n for n in names if n in pair.premise} != {n for n in names if n in pair.hypothesis}, pair


def test_date_edits_change_a_shared_year_or_month_into_a_contradiction():
    from nli_check.augment import date_edits

    pairs = [
        Pair("The bridge opened in March 1998 after years of delay.", "The bridge opened in 1998.", "entailment"),
        Pair("Elections were held in October.", "The vote took place in October.", "entailment"),
        Pair("The bridge opened in 1998.", "The bridge opened in 1998.", "contradiction"),  # not entailment
        Pair("Nothing dated here.", "Nor here.", "entailment"),
    ]
    edits = date_edits(pairs, 10, seed=3)
    assert len(edits) == 2 and all(e.label == "contradiction" for e in edits)
    assert edits == date_edits(pairs, 10, seed=3)  # deterministic
    by_premise = {e.premise: e.hypothesis for e in edits}
    year = by_premise["The bridge opened in March 1998 after years of delay."]
    assert year != "The bridge opened in 1998." and year.startswith("The bridge opened in ")
    month = by_premise["Elections were held in October."]
    assert "October" not in month and month.startswith("The vote took place in ")
