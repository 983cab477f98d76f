"""Claim verdicts: every labelled pair of a claim taken together into one verdict.

The rule (also in the README), after FEVER's SUPPORTS / REFUTES / NOT ENOUGH INFO and
MiniCheck's per-claim score (the best evidence decides, not the average):

* a pair *contradicts* the claim when its label is contradiction with confidence at least
  ``threshold``; it *supports* the claim when its label is entailment with confidence at
  least ``threshold``;
* ``contradicted``: some pair contradicts, none supports; confidence = the highest
  contradiction confidence, and that pair is the evidence;
* ``supported``: some pair supports, none contradicts; confidence = the highest support
  confidence, and that pair is the evidence;
* ``disputed``: pairs on both sides; the evidence is the strongest contradiction, the
  ``counter`` the strongest support, and the confidence the lower of the two (how sure the
  model is that both sides hold);
* ``unclear``: evidence was paired (similarity at least ``min_similarity``) but no pair
  reached the threshold either way; the evidence is the most similar pair, and the
  confidence 1 minus the highest contradiction or support probability of any pair (how sure
  the model is that none of them decides);
* ``no evidence``: no evidence sentence was paired with the claim at all; no confidence.

Example::

    from nli_check.verdicts import claim_verdicts
    verdicts = claim_verdicts(claim_sentences, findings, threshold=0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nli_check.labels import CONTRADICTION, ENTAILMENT
from nli_check.types import ClaimVerdict, Finding, Sentence


def _strongest(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.confidence, f.similarity))


def verdict_of(claim: Sentence, findings: Sequence[Finding], threshold: float) -> ClaimVerdict:
    """The verdict on one claim from all its labelled pairs (see the module's rule)."""
    findings = list(findings)
    if not findings:
        return ClaimVerdict(claim=claim, verdict="no evidence", confidence=None)
    against = [f for f in findings if f.label == CONTRADICTION and f.confidence >= threshold]
    for_ = [f for f in findings if f.label == ENTAILMENT and f.confidence >= threshold]
    counts = dict(pairs=len(findings), contradicting=len(against), supporting=len(for_))
    if against and for_:
        c, s = _strongest(against), _strongest(for_)
        return ClaimVerdict(claim, "disputed", min(c.confidence, s.confidence), c, s, **counts)
    if against:
        c = _strongest(against)
        return ClaimVerdict(claim, "contradicted", c.confidence, c, **counts)
    if for_:
        s = _strongest(for_)
        return ClaimVerdict(claim, "supported", s.confidence, s, **counts)
    closest = max(findings, key=lambda f: (f.similarity, f.confidence))
    decisive = max(
        max(f.probabilities.get(CONTRADICTION, 0.0), f.probabilities.get(ENTAILMENT, 0.0))
        if f.probabilities else (f.confidence if f.label != "neutral" else 0.0)
        for f in findings
    )
    return ClaimVerdict(claim, "unclear", max(0.0, 1.0 - decisive), closest, **counts)


def claim_verdicts(claims: Sequence[Sentence], findings: Iterable[Finding], threshold: float) -> list[ClaimVerdict]:
    """One verdict per claim sentence, in the order of ``claims``.

    ``findings`` are all labelled pairs, whatever their label or confidence; a pair counts
    for the claim it holds as ``claim`` (identity, then source and offsets).
    """
    by_claim: dict[tuple, list[Finding]] = {}
    for finding in findings:
        by_claim.setdefault(_key(finding.claim), []).append(finding)
    return [verdict_of(claim, by_claim.get(_key(claim), []), threshold) for claim in claims]


def _key(sentence: Sentence) -> tuple:
    return (sentence.source, sentence.start, sentence.end, sentence.index)
