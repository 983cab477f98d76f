"""``check()``: segment, embed, pair, classify; the stages wired together.

Example::

    from nli_check import check
    result = check(["draft.txt"], evidence=["sources/"], model="models/nli-minilm-l6")
    for finding in result.contradictions:
        print(finding.claim.text, "<->", finding.evidence.text, finding.confidence)
"""

from __future__ import annotations

import codecs
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, DEFAULT_THRESHOLD, ENTAILMENT, LABELS, NEUTRAL
from nli_check.pairing import CHECK_LEXICAL_K, CHECK_TOP_K, MIN_SIMILARITY
from nli_check.types import CheckResult, CheckSettings, Document, Finding, Sentence

logger = logging.getLogger(__name__)

#: File types read from a directory.
TEXT_SUFFIXES = (".txt", ".md")
#: What ``show`` selects.
SHOW = {
    "contradiction": (CONTRADICTION,),
    "support": (ENTAILMENT,),
    "all": (CONTRADICTION, ENTAILMENT, NEUTRAL),
}
STDIN = "-"
#: Above this many evidence sentences ``check`` suggests ``nli-check scan`` (one line on stderr).
LARGE_INPUT_SENTENCES = 20_000

InputItem = str | os.PathLike | Document


# ---------------------------------------------------------------------------- reading
def load_documents(items: InputItem | Iterable[InputItem], *, encoding: str = "utf-8",
                   role: str = "input") -> list[Document]:
    """Documents from paths (files, or directories of .txt/.md files), ``Document``\\ s, or
    ``"-"`` (standard input). Raises :class:`NLICheckError` for anything unreadable or empty."""
    _check_encoding(encoding)
    if isinstance(items, (str, os.PathLike, Document)):
        items = [items]
    documents: list[Document] = []
    for item in items:
        if isinstance(item, Document):
            documents.append(_check_text(item))
        elif str(item) == STDIN:
            documents.append(_read_stdin(encoding))
        else:
            documents.extend(_read_path(Path(item), encoding))
    if not documents:
        raise NLICheckError(f"no {role} documents given: name at least one file or directory")
    return documents


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise NLICheckError(f"unknown encoding {encoding!r}: use e.g. utf-8, latin-1 or cp1252") from None


def _read_path(path: Path, encoding: str) -> list[Document]:
    if not path.exists():
        raise NLICheckError(f"{path}: no such file or directory: check the path")
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise NLICheckError(
                f"{path} holds no .txt or .md files: give a directory of text files, or the files themselves"
            )
        return [_read_file(p, encoding) for p in files]
    return [_read_file(path, encoding)]


def _read_stdin(encoding: str) -> Document:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream without bytes underneath (already decoded)
        return _check_text(Document(name="<stdin>", text=sys.stdin.read()))
    return _decode(stream.read(), "<stdin>", encoding)


def _read_file(path: Path, encoding: str) -> Document:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NLICheckError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return _decode(data, str(path), encoding)


def _decode(data: bytes, path: str, encoding: str) -> Document:
    wide = any(n in codecs.lookup(encoding).name for n in ("16", "32"))
    if b"\x00" in data[:8192] and not wide:
        raise NLICheckError(
            f"{path} looks like a binary file, not text: give a plain-text file, or pass --encoding "
            "if it is text in another encoding (e.g. utf-16)"
        )
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise NLICheckError(
            f"{path} is not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "pass --encoding with the file's encoding, e.g. --encoding latin-1"
        ) from None
    return _check_text(Document(name=path, text=text))


def _check_text(document: Document) -> Document:
    if not document.text or not document.text.strip():
        raise NLICheckError(f"{document.name} is empty: give a document with some text")
    if "\x00" in document.text:
        raise NLICheckError(f"{document.name} holds NUL characters: give a plain-text document")
    return document


# ---------------------------------------------------------------------------- classification
def _views(claim: Sentence, evidence: Sentence) -> list[tuple[str, str, str]]:
    """``(view, claim text, evidence text)`` to put to the model.

    Always the full sentences; and, when either sentence has a reporting frame, the reported
    contents, with a denial restated as one ("There is no evidence of withdrawal."), so
    "Moscow said it was withdrawing" and "Wallace saw no evidence of withdrawal" are compared
    as "Moscow was withdrawing" against "There is no evidence of withdrawal".
    """
    from nli_check.text import denial_text

    views = [("sentence", claim.text, evidence.text)]
    if claim.cue is not None or evidence.cue is not None:
        claim_content = denial_text(claim)
        evidence_content = denial_text(evidence)
        if (claim_content, evidence_content) != (claim.text, evidence.text):
            views.append(("content", claim_content, evidence_content))
    return views


#: A conflict of figures or dates counts only between sentences at least this similar: two
#: sentences that share a figure's kind but little else measure different things.
FACT_MIN_SIMILARITY = 0.7
#: The same for counts of one noun ("380 jobs" / "around 160 jobs"): the noun says they count one
#: thing, so less of the rest need be shared. 0.6 on the held-out training cases: 7 more real
#: contradictions and 9 more false ones, no change on the dev cases or the dev archive.
FACT_MIN_SIMILARITY_COUNTS = 0.6
#: Days or months of one event conflict down to this similarity when the two sentences share two
#: names or more ("burgled Eastmoor Museum on Wednesday" / "a break-in at Eastmoor Museum early on
#: Monday 9 March"): the names say which event, where the wording differs too much for the embedder.
DATES_NAMED_MIN_SIMILARITY = 0.4
#: The confidence of a contradiction found by comparing figures or dates, or by opposite outcomes
#: or a denial, when the model's is lower: high enough to be reported at the default threshold.
#: Not a measured probability: of the findings it lifts, 5 of 7 were real on the findings
#: benchmark's dev cases and 38 of 47 on its held-out training cases.
FACT_CONFIDENCE = 0.75
#: The model's contradictions between sentences less similar than this are neutral, unless one
#: denies what the other asserts: then the floor is :data:`DISPUTE_MIN_SIMILARITY`, as embedders
#: put a denial far from its assertion. On the findings benchmark's dev cases, other pairs this
#: unlike share a subject but rarely an assertion. 0.45 over 0.4: precision 0.56 -> 0.58 on dev
#: at the same recall, 0.41 -> 0.43 on the held-out training cases for 1.3 points of recall;
#: 0.5 costs those cases 4.8 points.
CONTRADICTION_MIN_SIMILARITY = 0.45
#: A contradiction the model calls (its top label, at any probability) between sentences this
#: similar that state opposite outcomes ("rose" / "fell", "profit" / "loss", no negation in
#: either: :func:`nli_check.facts.opposites`), or where one denies what the other asserts ("has
#: no plans to close" / "will close": :func:`nli_check.facts.denied`), has confidence at least
#: :data:`FACT_CONFIDENCE`. 0.65 on the held-out training cases: 0.55 added two false findings
#: and no real one.
OPPOSITE_MIN_SIMILARITY = 0.65
#: Opposite outcomes at :data:`OPPOSITE_MIN_SIMILARITY` count when the model only leans to a
#: contradiction: not its top label, but at least this probable and more probable than
#: entailment. On the findings benchmark's dev cases this changes nothing; on the training cases
#: `ri`-`rp` it adds 1 real and 1 false finding, on `rq`-`rx` 2 real and 1 false, on the first
#: 160 nothing.
OPPOSITE_LEAN = 0.3
#: A dispute still needs this much in common: "the alliance saw no signs of de-escalation" denies
#: the withdrawal that "markets rose on news of the withdrawal" mentions, but says nothing of the
#: markets (0.23 apart with the default embedder), while "Wallace saw no evidence of withdrawal"
#: disputes "Moscow said it was withdrawing some forces" (0.29). No finding of the findings
#: benchmark's dev or test cases changes between 0 and 0.3.
DISPUTE_MIN_SIMILARITY = 0.25


def classify_pairs(
    model,
    claims: Sequence[Sentence],
    evidence: Sequence[Sentence],
    pairs: Sequence[tuple[int, int, float]],
    *,
    batch_size: int = 64,
    show_progress: bool = False,
    whole_documents: bool = True,
) -> list[Finding]:
    """Label each ``(claim index, evidence index, similarity)`` pair; one :class:`Finding` each,
    in the order of ``pairs``, whatever the label (callers filter).

    ``whole_documents`` says that ``claims`` and ``evidence`` hold every sentence of their
    documents, so that the names a document uses can tell whether two sentences share ground
    (:func:`nli_check.facts.compare`); ``scan`` passes False, as its shards hold only the
    sentences of some pairs.

    Every view (:func:`_views`) is put to the model in both directions. Contradiction is
    symmetric, so both directions must agree: a view's contradiction score is the mean of its
    two directions' probabilities, and the pair's is the best view's. A dispute (one sentence
    denies what the other asserts, compared as "There is no evidence that P" against P) takes
    its stronger direction instead. Two denials ("A denied that P", "B denied that Q") are never
    a contradiction: they agree, or speak of different things. Entailment is
    directional: only premise = evidence, hypothesis = claim counts. The model's verdict is the
    more probable of the two, when that label is also the top label of the prediction it came
    from; otherwise the pair is neutral. Then the facts of the two sentences
    (:func:`nli_check.facts.compare`) have the last word:

    - different events (another place, organisation, date or period): a contradiction
      becomes neutral;
    - figures that agree ("a quarter" and "25%"), or that differ between sentences less than
      :data:`FACT_MIN_SIMILARITY` similar (they measure different things: profit and
      spending): a contradiction becomes neutral;
    - incompatible figures or dates of one event, in sentences at least
      :data:`FACT_MIN_SIMILARITY` similar (:data:`FACT_MIN_SIMILARITY_COUNTS` for counts of one
      noun), or incompatible days or months of a pair the model calls a contradiction ("found
      safe on Monday" / "found alive on Tuesday 10 November") or of sentences that share two
      names, down to :data:`DATES_NAMED_MIN_SIMILARITY` (years apart count only as figures
      do): a contradiction, with confidence at least :data:`FACT_CONFIDENCE`;
    - with no figures or dates to compare, a contradiction the model calls, or only leans to
      (at least :data:`OPPOSITE_LEAN` and more probable than entailment), between sentences at
      least :data:`OPPOSITE_MIN_SIMILARITY` similar that state opposite outcomes ("rose" /
      "fell"), or where one denies what the other asserts ("has no plans to close" / "will
      close"): confidence at least :data:`FACT_CONFIDENCE`;
    - a rebuttal of what the other sentence's speaker said ("residents rejected the
      councillor's account" / "Councillor Lee said ..."), between sentences at least
      :data:`DISPUTE_MIN_SIMILARITY` similar: a contradiction, with confidence at least
      :data:`FACT_CONFIDENCE`.

    ``Finding.reason`` says what the facts showed ("120 jobs vs 450 redundancies", "'rose' vs
    'fell'");
    ``Finding.view`` which view gave the verdict; ``probabilities`` are that view's.
    """
    items: dict[tuple[str, str], int] = {}
    plan: list[list[tuple[str, int, int]]] = []  # per pair: (view, forward item, reverse item)
    for claim_index, evidence_index, _ in pairs:
        claim, ev = claims[claim_index], evidence[evidence_index]
        entries = []
        for view, claim_text, evidence_text in _views(claim, ev):
            forward = items.setdefault((evidence_text, claim_text), len(items))
            reverse = items.setdefault((claim_text, evidence_text), len(items))
            entries.append((view, forward, reverse))
        plan.append(entries)
    if not items:
        return []
    logger.info("Classifying %d pairs (%d model inputs)", len(pairs), len(items))
    probs = model.predict_proba(list(items), batch_size=batch_size, show_progress=show_progress)
    c_col, e_col, n_col = (LABELS.index(name) for name in (CONTRADICTION, ENTAILMENT, NEUTRAL))
    facts = _Facts(claims, evidence, whole_documents=whole_documents)

    findings = []
    for (claim_index, evidence_index, similarity), entries in zip(pairs, plan):
        # Both directions of each view, averaged (a restated denial: its stronger direction);
        # the view that contradicts most.
        dispute = claims[claim_index].polarity != evidence[evidence_index].polarity
        both = [(view, _directions(probs[f], probs[r], c_col, stronger=dispute and view == "content"), probs[f])
                for view, f, r in entries]
        c_view, c_probs, _ = max(both, key=lambda t: t[1][c_col])
        e_view, _, e_probs = max(both, key=lambda t: t[2][e_col])
        if c_probs[c_col] >= e_probs[e_col] and int(np.argmax(c_probs)) == c_col:
            label, view, row = CONTRADICTION, c_view, c_probs
        elif int(np.argmax(e_probs)) == e_col and e_probs[e_col] > c_probs[c_col]:
            label, view, row = ENTAILMENT, e_view, e_probs
        else:  # neither contradiction nor support wins: neutral, from the full sentences
            label, view, row = NEUTRAL, both[0][0], both[0][1]
        floor = DISPUTE_MIN_SIMILARITY if dispute else CONTRADICTION_MIN_SIMILARITY
        if label == CONTRADICTION and similarity < floor:
            label, view, row = NEUTRAL, both[0][0], both[0][1]
        # Two denials agree or speak of different things; they do not contradict each other.
        both_deny = claims[claim_index].polarity < 0 and evidence[evidence_index].polarity < 0
        if label == CONTRADICTION and both_deny:
            label, view, row = NEUTRAL, both[0][0], both[0][1]
        confidence = float(row[LABELS.index(label)])
        comparison = facts.compare(claim_index, evidence_index)
        reason = None
        if comparison is not None:
            reason = comparison.reason
            # Figures that differ between sentences this unlike measure different things; dates
            # of one event that the model also sees contradict are a conflict at any similarity
            # the model's contradictions count at.
            dated = comparison.kind == "conflict" and comparison.of == "dates" and (
                label == CONTRADICTION
                or (similarity >= DATES_NAMED_MIN_SIMILARITY and facts.shared_names(claim_index, evidence_index) >= 2))
            needed = FACT_MIN_SIMILARITY_COUNTS if comparison.of == "counts" else FACT_MIN_SIMILARITY
            different = comparison.kind == "conflict" and similarity < needed and not dated
            if (comparison.kind in ("different-event", "agree") or different) and label == CONTRADICTION:
                label, view, row = NEUTRAL, both[0][0], both[0][1]
                confidence = float(row[n_col])
            elif comparison.kind == "conflict" and (similarity >= needed or dated) and not both_deny:
                label, view, row = CONTRADICTION, c_view, c_probs
                confidence = max(float(row[c_col]), FACT_CONFIDENCE)
        elif label == CONTRADICTION and (ended := facts.state_ends(claim_index, evidence_index)):
            # "closed until Friday" / "reopens on Friday": the state and its end agree
            label, view, row = NEUTRAL, both[0][0], both[0][1]
            confidence, reason = float(row[n_col]), ended
        elif label == CONTRADICTION and similarity >= OPPOSITE_MIN_SIMILARITY:
            # The model's contradiction, and opposite outcomes ("rose" / "fell") or a denial of
            # what the other asserts ("has no plans to close" / "will close").
            opposed = facts.opposed(claim_index, evidence_index)
            if opposed:
                reason, confidence = opposed, max(confidence, FACT_CONFIDENCE)
        elif (label != CONTRADICTION and not both_deny and similarity >= OPPOSITE_MIN_SIMILARITY
              and c_probs[c_col] >= OPPOSITE_LEAN and c_probs[c_col] > c_probs[e_col]
              and (opposed := facts.opposed(claim_index, evidence_index))
              and not facts.state_ends(claim_index, evidence_index)):
            # Opposite outcomes the model leans to without calling them: contradiction is
            # more probable than support ("reported a record profit" / "reported a loss").
            label, view, row = CONTRADICTION, c_view, c_probs
            reason, confidence = opposed, max(float(row[c_col]), FACT_CONFIDENCE)
        if label != CONTRADICTION and not both_deny and similarity >= DISPUTE_MIN_SIMILARITY:
            # "rejected the councillor's account" against what the councillor said: the party
            # named is the other's speaker, so they speak of one matter, whatever names differ
            rebuttal = facts.rebutted(claim_index, evidence_index)
            if rebuttal:
                label, view, row = CONTRADICTION, c_view, c_probs
                confidence, reason = max(float(row[c_col]), FACT_CONFIDENCE), rebuttal
        findings.append(
            Finding(
                claim=claims[claim_index],
                evidence=evidence[evidence_index],
                label=label,
                confidence=confidence,
                similarity=float(similarity),
                probabilities={name: float(row[i]) for i, name in enumerate(LABELS)},
                view=view,
                reason=reason,
            )
        )
    return findings


def _directions(forward: np.ndarray, reverse: np.ndarray, c_col: int, *, stronger: bool) -> np.ndarray:
    """One prediction for a view from its two directions: their mean, or the one that
    contradicts more when ``stronger`` (a denial restated as "There is no evidence that P",
    against P: a frame nli-check builds itself and the model was trained on, so one direction
    is evidence enough)."""
    if stronger:
        return forward if forward[c_col] >= reverse[c_col] else reverse
    return (forward + reverse) / 2


class _Facts:
    """The facts of each sentence, read once, for :func:`nli_check.facts.compare`."""

    def __init__(self, claims: Sequence[Sentence], evidence: Sequence[Sentence], *,
                 whole_documents: bool = True) -> None:
        from nli_check import facts

        self._facts = facts
        self.claims, self.evidence = claims, evidence
        self.whole_documents = whole_documents
        self.known = facts.known_names(s.text for s in (*claims, *evidence))
        self._read: dict[int, object] = {}
        self._rebuttals: dict[int, tuple[str, str] | None] = {}
        self._by_source: dict[str, list[Sentence]] = {}
        for sentence in (*claims, *evidence):
            self._by_source.setdefault(sentence.source, []).append(sentence)
        self._context: dict[str, frozenset[str]] = {}

    def _names_of(self, source: str) -> frozenset[str] | None:
        """The names a document uses, over all its sentences given here; None (not known) unless
        every sentence of the documents was given."""
        if not self.whole_documents:
            return None
        if source not in self._context:
            names: set[str] = set()
            for sentence in self._by_source.get(source, ()):
                names |= self._facts.names(self._facts.about(sentence.text, sentence.speaker), self.known)
            self._context[source] = frozenset(names)
        return self._context[source]

    def _of(self, sentence: Sentence):
        key = id(sentence)
        if key not in self._read:
            self._read[key] = self._facts.read(sentence.text, speaker=sentence.speaker, known=self.known)
        return self._read[key]

    def shared_names(self, claim_index: int, evidence_index: int) -> int:
        """How many names (not the speakers') the two sentences share: "Eastmoor", "Museum"."""
        return len(self._of(self.claims[claim_index]).names & self._of(self.evidence[evidence_index]).names)

    def rebutted(self, claim_index: int, evidence_index: int) -> str | None:
        """:func:`nli_check.facts.rebutted`, each sentence read once (most pairs hold no rebuttal)."""
        claim, evidence = self.claims[claim_index], self.evidence[evidence_index]
        for sentence, other in ((claim, evidence), (evidence, claim)):
            key = id(sentence)
            if key not in self._rebuttals:
                self._rebuttals[key] = self._facts.rebuttal(sentence.text)
            found = self._rebuttals[key]
            if self._facts.rebuts(found, other.speaker):
                return found[0]
        return None

    def state_ends(self, claim_index: int, evidence_index: int) -> str | None:
        return self._facts.state_ends(self.claims[claim_index].text, self.evidence[evidence_index].text)

    def opposed(self, claim_index: int, evidence_index: int) -> str | None:
        claim, evidence = self.claims[claim_index].text, self.evidence[evidence_index].text
        return self._facts.opposites(claim, evidence) or self._facts.denied(claim, evidence)

    def compare(self, claim_index: int, evidence_index: int):
        claim, evidence = self.claims[claim_index], self.evidence[evidence_index]
        return self._facts.compare(claim.text, evidence.text, self._of(claim), self._of(evidence),
                                   claim_date=claim.date, evidence_date=evidence.date,
                                   claim_context=self._names_of(claim.source),
                                   evidence_context=self._names_of(evidence.source))


# ---------------------------------------------------------------------------- check
def _validate(top_k: int, min_similarity: float, threshold: float, show: str, batch_size: int,
              device="auto", lexical_k: int = 0) -> None:
    from nli_check.devices import DEVICE_CHOICES, valid_device

    if isinstance(device, str) and not valid_device(device):
        raise NLICheckError(f"unknown device {device!r}: use {DEVICE_CHOICES}")
    for name, value, least in (("top-k", top_k, 1), ("lexical-k", lexical_k, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise NLICheckError(f"{name} must be a whole number of at least {least}, got {value!r}")
    if not -1.0 <= float(min_similarity) <= 1.0:
        raise NLICheckError(f"min-similarity must be a cosine similarity, between -1 and 1, got {min_similarity}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise NLICheckError(f"threshold must be between 0 and 1, got {threshold}")
    if show not in SHOW:
        raise NLICheckError(f"unknown show {show!r}: use {', '.join(SHOW)}")
    if batch_size < 1:
        raise NLICheckError(f"batch size must be at least 1, got {batch_size}")


#: Loaded NLI models, keyed by (model, device, backend, quantize): each loads once per process.
_MODELS: dict[tuple, object] = {}


def _load_model(model, device: str, backend: str = "auto", quantize: str | None = "auto"):
    from nli_check.nli import NLIModel

    if isinstance(model, NLIModel):
        return model
    key = (None if model is None else str(model), device, backend, quantize)
    if key not in _MODELS:
        _MODELS[key] = NLIModel(model, device=device, backend=backend, quantize=quantize)
    return _MODELS[key]


def _load_embedder(embedder, device: str, batch_size: int, backend: str = "auto"):
    from nli_check.embed import Embedder

    if isinstance(embedder, Embedder):
        return embedder
    return Embedder(embedder, device=device, batch_size=batch_size, backend=backend)


def check(
    claims: InputItem | Iterable[InputItem],
    evidence: InputItem | Iterable[InputItem] | None = None,
    *,
    model=None,
    embedder=None,
    top_k: int = CHECK_TOP_K,
    min_similarity: float = MIN_SIMILARITY,
    lexical_k: int = CHECK_LEXICAL_K,
    threshold: float = DEFAULT_THRESHOLD,
    show: str = "contradiction",
    device: str = "auto",
    batch_size: int = 64,
    encoding: str = "utf-8",
    show_progress: bool = False,
    backend: str = "auto",
    quantize: str | None = "auto",
    archive=None,
    archive_filter=None,
) -> CheckResult:
    """Find the claims that the evidence contradicts (or supports).

    ``claims`` and ``evidence`` are paths (files, or directories of .txt/.md files),
    :class:`Document`\\ s, or ``"-"`` for standard input. Without evidence, every document in
    ``claims`` is checked against every other. ``model`` is an :class:`NLIModel`, a model
    directory or hub id, or ``None`` for the shipped default; ``embedder`` likewise an
    :class:`Embedder`, a path, or ``None`` for all-MiniLM-L6-v2.

    For each claim sentence the ``top_k`` evidence sentences with cosine similarity at least
    ``min_similarity`` are labelled, and the ``lexical_k`` that share the most rare words with
    it (BM25; the same similarity floor applies; 0 for none); findings whose label is selected by ``show``
    (contradiction, support or all) and whose confidence is at least ``threshold`` are
    returned, in claim order. ``show="all"`` means every pair compared, whatever its label and
    confidence (``threshold`` still decides the verdicts). Whatever ``show``,
    ``CheckResult.claims`` holds one verdict per claim sentence (:mod:`nli_check.verdicts`),
    from all its pairs, including those not listed.

    ``backend`` (``torch``, ``onnx`` or ``auto``) and ``quantize`` (``int8``, ``none`` or
    ``auto``) choose how the models loaded here run (``quantize`` applies to the NLI model
    only; the embedder follows ``backend``); ``auto`` is the fastest mode that kept
    accuracy (:func:`nli_check.nli.default_mode`). Models load once per process.

    ``archive`` is an index folder written by ``nli-check index`` (or an
    :class:`~nli_check.archive.Archive`): each claim is also paired with the archive's most
    similar sentences, kept by ``archive_filter`` (an :class:`~nli_check.archive.ArchiveFilter`:
    dates, sources). Archive sentences and ``evidence`` files are evidence alike.
    """
    from nli_check.pairing import candidate_pairs, lexical_pairs, same_sentence_mask
    from nli_check.verdicts import claim_verdicts

    _validate(top_k, min_similarity, threshold, show, batch_size, device, lexical_k)
    claim_docs = load_documents(claims, encoding=encoding, role="claim")
    all_vs_all = evidence is None and archive is None
    if all_vs_all:
        if len(claim_docs) < 2:
            raise NLICheckError(
                f"only one document ({claim_docs[0].name}) and no evidence: pass --evidence, "
                "or two or more documents to check against each other"
            )
        evidence_docs = claim_docs
    elif evidence is None:
        evidence_docs = []
    else:
        evidence_docs = load_documents(evidence, encoding=encoding, role="evidence")

    claim_sentences, evidence_sentences = _segment_all(claim_docs, None if all_vs_all else evidence_docs,
                                                       show_progress)
    for docs, sentences in ((claim_docs, claim_sentences), (evidence_docs, evidence_sentences)):
        if docs and not sentences:  # pragma: no cover - empty documents are refused when read
            raise NLICheckError(f"no sentences found in {', '.join(d.name for d in docs)}")
    logger.info(
        "Read %d claim sentence(s) from %d document(s) and %d evidence sentence(s) from %d document(s)",
        len(claim_sentences), len(claim_docs), len(evidence_sentences), len(evidence_docs),
    )
    if len(evidence_sentences) > LARGE_INPUT_SENTENCES:
        logger.warning(
            "%d evidence sentences: above %d, `nli-check scan` (an on-disk index, resumable, GPU "
            "or Ray) is the faster way to check against an archive", len(evidence_sentences),
            LARGE_INPUT_SENTENCES,
        )

    nli = _load_model(model, device, backend, quantize)  # first: a bad --model fails before the embedder loads
    opened = None
    if archive is not None:
        from nli_check.archive import open_archive

        archive, opened = open_archive(archive, embedder=embedder, device=device, backend=backend,
                                       batch_size=batch_size)
        embedder = archive.embedder  # the index's own embedder, checked against the index
    embedder = _load_embedder(embedder, device, batch_size, backend)

    claim_views = _embed_views(embedder, claim_sentences, show_progress)
    if all_vs_all:
        evidence_views = claim_views
        doc_of = np.array([_doc_key(s) for s in claim_sentences])
        exclude = doc_of[:, None] == doc_of[None, :]
    else:
        evidence_views = _embed_views(embedder, evidence_sentences, show_progress)
        exclude = same_sentence_mask(claim_sentences, evidence_sentences)
    pair_lists = [
        (view, candidate_pairs(c, e, top_k=top_k, min_similarity=min_similarity, exclude=exclude))
        for view, c in enumerate(claim_views)
        for e in evidence_views
    ] if evidence_sentences else []
    by_words = lexical_pairs([s.text for s in claim_sentences], [s.text for s in evidence_sentences],
                             top_k=lexical_k, exclude=exclude)
    archive_info = None
    archive_pairs = []
    if archive is not None:
        from nli_check.archive import archive_evidence

        try:
            found, archive_pairs, archive_docs, archive_info = archive_evidence(
                archive, claim_sentences, claim_views, top_k=top_k, min_similarity=min_similarity,
                archive_filter=archive_filter, offset=len(evidence_sentences),
            )
        finally:
            if opened is not None:
                opened.close()
        evidence_sentences = evidence_sentences + found
        evidence_docs = evidence_docs + archive_docs
    pairs = _merge_views(pair_lists, archive_pairs, top_k)
    pairs = _add_lexical(pairs, by_words, claim_views, evidence_views, min_similarity)
    # Each claim's own top-k pairs decide its verdict (in both directions where every
    # document is checked against every other); the findings list each pair once.
    verdict_pairs = pairs + [(j, i, sim) for i, j, sim in pairs] if all_vs_all else pairs
    if all_vs_all:
        pairs = _unordered(pairs)
    else:
        pairs = _drop_mirrored(pairs, claim_sentences, evidence_sentences)
    logger.info("Found %d candidate pair(s) with similarity >= %.2f", len(pairs), min_similarity)

    to_classify = {(i, j): sim for i, j, sim in verdict_pairs}
    to_classify.update({(i, j): sim for i, j, sim in pairs})
    classified = classify_pairs(
        nli, claim_sentences, evidence_sentences, [(i, j, sim) for (i, j), sim in to_classify.items()],
        batch_size=batch_size, show_progress=show_progress,
    )
    by_pair = dict(zip(to_classify, classified))
    findings = [by_pair[(i, j)] for i, j, _ in pairs]
    verdicts = claim_verdicts(
        claim_sentences, [by_pair[(i, j)] for (i, j) in dict.fromkeys((i, j) for i, j, _ in verdict_pairs)],
        threshold,
    )
    wanted = SHOW[show]
    # show="all" lists every pair compared; the threshold selects among the others.
    reported = [f for f in findings if show == "all" or (f.label in wanted and f.confidence >= threshold)]
    rank = {name: i for i, name in enumerate(LABELS)}
    order = {id(s): i for i, s in enumerate(claim_sentences)}
    reported.sort(key=lambda f: (order[id(f.claim)], rank[f.label], -f.confidence, -f.similarity))

    settings = CheckSettings(
        model=nli.name,
        embedding_model=embedder.name,
        device=str(nli.device),
        top_k=int(top_k),
        min_similarity=float(min_similarity),
        threshold=float(threshold),
        show=show,
        archive=archive_info,
    )
    sentences = claim_sentences if all_vs_all else claim_sentences + evidence_sentences
    return CheckResult(
        claim_documents=claim_docs,
        evidence=evidence_docs,
        findings=reported,
        settings=settings,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        pairs_compared=len(pairs),
        sentences=sentences,
        claims=verdicts,
    )


def _segment_all(claim_docs: list[Document], evidence_docs: list[Document] | None,
                 show_progress: bool) -> tuple[list[Sentence], list[Sentence]]:
    """Sentences of the claim and evidence documents (the same list when ``evidence_docs`` is
    ``None``), with one progress bar over all their characters."""
    from nli_check.progress import progress_bar
    from nli_check.text import segment

    docs = claim_docs + (evidence_docs or [])
    total = sum(len(d.text) for d in docs)
    with progress_bar(total, "Segmenting", "char", enabled=show_progress, unit_scale=True) as bar:
        claim_sentences = [s for doc in claim_docs for s in segment(doc, progress=bar.update)]
        if evidence_docs is None:
            return claim_sentences, claim_sentences
        return claim_sentences, [s for doc in evidence_docs for s in segment(doc, progress=bar.update)]


def _embed_views(embedder, sentences: Sequence[Sentence], show_progress: bool) -> list[np.ndarray]:
    """Embeddings of the sentences, of their reported contents where any sentence has one, and of
    bare disputes in their context where any sentence is one.

    Pairing by content as well finds "Moscow said it was withdrawing troops" and "Wallace saw
    no sign that troops were withdrawing" even when the frames around them differ. A bare
    dispute denies a thing without saying whose claim it disputes ("Stoltenberg said he saw no
    signs of de-escalation on the ground": a cue ending "of" or "about", :func:`_bare_disputes`);
    news copy puts it right after what it disputes, so it is also embedded with the sentence
    before it in its document. Embedders put "de-escalation" far from "withdrawing some forces"
    (cosine 0.12 in the seed article; 0.53 with the sentence before).
    """
    texts = [s.text for s in sentences]
    vectors = embedder.embed(texts, show_progress=show_progress)
    contents = [s.content or s.text for s in sentences]
    if contents == texts:
        return [vectors]
    changed = [i for i, (c, t) in enumerate(zip(contents, texts)) if c != t]
    content_vectors = vectors.copy()
    content_vectors[changed] = embedder.embed([contents[i] for i in changed])
    views = [vectors, content_vectors]
    bare = _bare_disputes(sentences)
    if bare:
        context_vectors = vectors.copy()
        context_vectors[bare] = embedder.embed([f"{texts[i - 1]} {texts[i]}" for i in bare])
        views.append(context_vectors)
    return views


def _bare_disputes(sentences: Sequence[Sentence]) -> list[int]:
    """Indices of the sentences that deny a thing named by a noun ("no signs of de-escalation",
    "no evidence of withdrawal") and follow another sentence of their document."""
    return [i for i, s in enumerate(sentences)
            if s.polarity < 0 and s.cue and s.cue.endswith((" of", " about"))
            and i > 0 and sentences[i - 1].source == s.source]


def _merge_views(pair_lists: list[tuple[int, list[tuple[int, int, float]]]],
                 archive_lists: list[list[tuple[int, int, float]]], top_k: int) -> list[tuple[int, int, float]]:
    """One list of pairs from several views: each claim's top-k by its best view, and its top-k by
    the whole sentences, each pair once with its best similarity, ordered by claim, then
    similarity.

    ``pair_lists`` holds ``(claim view, pairs)`` for each view of the claims against each view of
    the evidence, the sentences against the sentences first; ``archive_lists`` an archive's pairs
    for each view of the claims, which compete with the evidence's for that view's top-k. The
    sentences' own top-k stay: "Kessler Foods will cut two thirds of the workforce, the company
    confirmed" finds "the proposal would affect around 40% of the 600 roles" fifth by the whole
    sentence, and would otherwise lose its place to sentences near the reported content alone.
    """
    if archive_lists:
        lists = [_top_k(pairs + archive_lists[view], top_k) for view, pairs in pair_lists] or archive_lists
    else:
        lists = [pairs for _, pairs in pair_lists]
    merged = _top_k([pair for pairs in lists for pair in pairs], top_k)
    return merged if len(lists) <= 1 else _top_k(merged + lists[0])


def _top_k(pairs: list[tuple[int, int, float]], top_k: int | None = None) -> list[tuple[int, int, float]]:
    """Each claim's ``top_k`` (default: all) most similar pairs, each pair once with its best
    similarity, ordered by claim, then similarity."""
    best: dict[tuple[int, int], float] = {}
    for i, j, sim in pairs:
        best[(i, j)] = max(sim, best.get((i, j), -2.0))
    by_claim: dict[int, list[tuple[int, int, float]]] = {}
    for (i, j), sim in best.items():
        by_claim.setdefault(i, []).append((i, j, sim))
    return [p for i in sorted(by_claim) for p in sorted(by_claim[i], key=lambda p: (-p[2], p[1]))[:top_k]]


def _add_lexical(pairs: list[tuple[int, int, float]], by_words: list[tuple[int, int]],
                 claim_views: list[np.ndarray], evidence_views: list[np.ndarray],
                 min_similarity: float) -> list[tuple[int, int, float]]:
    """The pairs by meaning and those by shared words (:func:`~nli_check.pairing.lexical_pairs`)
    not among them, with their best view's similarity, when that is at least ``min_similarity``;
    ordered by claim, then similarity."""
    have = {(i, j) for i, j, _ in pairs}
    extra = []
    for i, j in by_words:
        if (i, j) in have:
            continue
        similarity = min(1.0, max(float(c[i] @ e[j]) for c, e in zip(claim_views, evidence_views)))
        if similarity >= min_similarity:
            extra.append((i, j, similarity))
    if not extra:
        return pairs
    return sorted(pairs + extra, key=lambda p: (p[0], -p[2], p[1]))


def _doc_key(sentence: Sentence) -> str:
    return sentence.source


def _unordered(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """All-against-all pairs: keep each unordered pair once, the earlier sentence as the claim."""
    seen: dict[tuple[int, int], float] = {}
    for i, j, sim in pairs:
        key = (min(i, j), max(i, j))
        seen[key] = max(sim, seen.get(key, -1.0))
    return [(i, j, sim) for (i, j), sim in sorted(seen.items())]


def _sentence_key(sentence: Sentence) -> tuple[str, int, int]:
    return (sentence.source, sentence.start, sentence.end)


def _drop_mirrored(pairs: list[tuple[int, int, float]], claims: Sequence[Sentence],
                   evidence: Sequence[Sentence]) -> list[tuple[int, int, float]]:
    """Where the same sentences stand on both sides (a document checked against itself),
    keep A against B and drop B against A: both directions are compared for each pair anyway."""
    seen: set[tuple] = set()
    kept = []
    for i, j, sim in pairs:
        a, b = _sentence_key(claims[i]), _sentence_key(evidence[j])
        if (b, a) in seen:
            continue
        seen.add((a, b))
        kept.append((i, j, sim))
    return kept
