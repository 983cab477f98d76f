"""Findings cases (``data/cases/<split>/*.yaml``) read, and turned into training pairs.

A case is a news draft, the sources behind it, and gold sentence pairs labelled
``contradiction`` or ``not-contradiction`` (see ``data/cases/README.md``). Every real
contradiction of a case is in its gold list, so any other pair of a draft sentence and a source
sentence is known not to contradict, though whether it is an entailment or neutral is not
known. :func:`case_pairs` turns cases into training pairs for the NLI model in the form the
pipeline asks its questions, both directions of each pair:

* gold contradictions: ``contradiction``;
* gold look-alikes, and the ``negatives`` source sentences that share the most words with each
  draft sentence (the on-topic pairs a checker is tempted by): ``not-contradiction``, a label
  that training reads as "anything but contradiction" (:data:`nli_check.labels.NOT_CONTRADICTION`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, NOT_CONTRADICTION

_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset("the and for that with was were has have had from this its their said will are but not "
                  "been after who which than into about more over they them his her she him all one two".split())


@dataclass(frozen=True)
class CasePair:
    premise: str
    hypothesis: str
    label: str


def case_files(folder: str | Path, ids: str | None = None) -> list[Path]:
    """The case files of ``folder``; with ``ids``, only those whose id (the file name without
    .yaml) matches that pattern ("r[a-h]*")."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NLICheckError(f"no cases folder at {folder}: give a folder of case .yaml files (see data/cases)")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise NLICheckError(f"no cases in {folder}: a cases folder holds one .yaml file per case")
    if ids is not None:
        files = [path for path in files if fnmatch.fnmatchcase(path.stem, ids)]
        if not files:
            raise NLICheckError(f"no case in {folder} has an id matching {ids!r}: check the pattern")
    return files


def load_cases(folder: str | Path, ids: str | None = None) -> list[dict]:
    """Every case of ``folder`` (those matching ``ids``, if given), as the dicts its YAML files hold."""
    import yaml

    cases = []
    for path in case_files(folder, ids):
        try:
            case = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise NLICheckError(f"{path} is not valid YAML ({exc.__class__.__name__}): fix the file") from exc
        if not isinstance(case, dict) or not isinstance(case.get("draft"), str) or not case.get("sources"):
            raise NLICheckError(f"{path} is not a case: it needs a draft and sources (see data/cases/README.md)")
        cases.append(case)
    return cases


def folder_sha256(folder: str | Path, ids: str | None = None) -> str:
    """One hash of every case file of ``folder`` (those matching ``ids``, if given): names and contents."""
    digest = hashlib.sha256()
    for path in case_files(folder, ids):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def case_pairs(cases: list[dict], negatives: int = 4) -> list[CasePair]:
    """Training pairs of ``cases`` (module doc), both directions, gold first; no pair twice."""
    pairs: list[CasePair] = []
    seen: set[tuple[str, str]] = set()

    def add(a: str, b: str, label: str) -> None:
        for premise, hypothesis in ((b, a), (a, b)):
            if (premise, hypothesis) not in seen:
                seen.add((premise, hypothesis))
                pairs.append(CasePair(premise, hypothesis, label))

    for case in cases:
        gold = case.get("gold") or []
        contradictions = {(g["claim"].strip(), g["evidence"].strip()) for g in gold if g["label"] == CONTRADICTION}
        for claim, evidence in sorted(contradictions):
            add(claim, evidence, CONTRADICTION)
        for g in gold:
            if g["label"] != CONTRADICTION:
                add(g["claim"].strip(), g["evidence"].strip(), NOT_CONTRADICTION)
        evidence_words = {line: _words(line) for text in case["sources"].values() for line in _lines(text)}
        for claim in _lines(case["draft"]):
            words = _words(claim)
            ranked = sorted(evidence_words, key=lambda line: (-len(words & evidence_words[line]), line))
            chosen = [line for line in ranked if (claim, line) not in contradictions][:negatives]
            for line in chosen:
                add(claim, line, NOT_CONTRADICTION)
    return pairs


__all__ = ["CasePair", "case_files", "load_cases", "folder_sha256", "case_pairs"]
