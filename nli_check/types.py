"""Small frozen result types shared by the pipeline, the reports and ``scan``.

Everything here serialises with :func:`dataclasses.asdict` to plain JSON types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document, with where it stands and who (if anyone) is reported to say it.

    ``content`` is the reported content of a reporting frame ("Moscow said it was withdrawing
    forces" -> "Moscow was withdrawing forces"), or the sentence itself when there is no frame.
    ``polarity`` is ``-1`` when the frame's cue denies the content ("denied that", "saw no
    evidence of"), else ``1``.
    """

    text: str
    source: str
    start: int
    end: int
    index: int
    speaker: str | None = None
    cue: str | None = None
    content: str | None = None
    polarity: int = 1
    #: For a sentence of an indexed archive: its article's id, source (outlet) and date.
    article_id: str | None = None
    source_name: str | None = None
    date: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """A named text: a draft, an evidence file, or an archive record."""

    name: str
    text: str
    date: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Finding:
    """A claim and a piece of evidence, labelled by the NLI model.

    ``label`` is contradiction, entailment or neutral; ``confidence`` is the calibrated
    probability of that label; ``similarity`` is the pairing cosine similarity.
    """

    claim: Sentence
    evidence: Sentence
    label: str
    confidence: float
    similarity: float
    probabilities: dict[str, float] = field(default_factory=dict)
    #: Which view of the two sentences gave the verdict: "sentence" or "content".
    view: str = "sentence"
    #: What comparing the two sentences' figures, dates and names showed, when it bears on the
    #: verdict: "About 120 jobs vs 450 redundancies", "Thursday vs 13 March 2026 (a Friday)",
    #: "Ashby vs Brindle" (different events), "a quarter of staff = 25%" (agreeing figures).
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckSettings:
    """The settings a check ran with, echoed in every report."""

    model: str
    embedding_model: str
    device: str
    top_k: int
    min_similarity: float
    threshold: float
    show: str
    #: The archive searched with ``check --archive``: folder, generation, size and filters.
    archive: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


#: Claim verdicts, in the order reports list their counts.
VERDICTS = ("contradicted", "disputed", "supported", "unclear", "no evidence")


@dataclass(frozen=True)
class ClaimVerdict:
    """What the evidence says about one claim sentence, all its pairs taken together.

    ``verdict`` is one of :data:`VERDICTS` (the rule is in ``nli_check.verdicts``).
    ``evidence`` is the strongest evidence (for ``disputed``, the strongest contradiction;
    ``counter`` then holds the strongest support); ``None`` for ``no evidence``.
    ``confidence`` is a probability, ``None`` for ``no evidence``. ``pairs`` counts the
    evidence sentences compared with the claim; ``contradicting`` and ``supporting`` those
    whose label reached the threshold.
    """

    claim: Sentence
    verdict: str
    confidence: float | None
    evidence: Finding | None = None
    counter: Finding | None = None
    pairs: int = 0
    contradicting: int = 0
    supporting: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` returns: the documents it read, what it found, and how it ran.

    ``findings`` are the labelled pairs selected by ``show`` and ``threshold``; ``claims``
    holds one :class:`ClaimVerdict` per claim sentence, in document order, whatever ``show``;
    ``claim_documents`` and ``evidence`` are the documents read.
    """

    claim_documents: list[Document]
    evidence: list[Document]
    findings: list[Finding]
    settings: CheckSettings
    created: str
    pairs_compared: int = 0
    sentences: list[Sentence] = field(default_factory=list)
    claims: list[ClaimVerdict] = field(default_factory=list)

    @property
    def contradictions(self) -> list[Finding]:
        return [f for f in self.findings if f.label == "contradiction"]

    @property
    def supports(self) -> list[Finding]:
        return [f for f in self.findings if f.label == "entailment"]

    def to_dict(self) -> dict:
        return asdict(self)

    def verdict_counts(self) -> dict[str, int]:
        """Claims per verdict, every verdict named (zero where none)."""
        out = {name: 0 for name in VERDICTS}
        for verdict in self.claims:
            out[verdict.verdict] = out.get(verdict.verdict, 0) + 1
        return out
