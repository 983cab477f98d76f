"""The HTML report: the draft as written, annotated with what the evidence says about it.

:func:`render` turns a :class:`~nli_check.types.CheckResult` into one self-contained HTML
page: inline CSS and a little vanilla JavaScript (``report.css`` and ``report.js`` beside
this module), no network fetches. The page shows

* a summary (counts by label, the model and settings, the time of the run);
* the claim documents as written, each claim with a contradiction highlighted in red and
  each supported claim in green, shaded and badged by confidence;
* on click (or Enter) of a claim, its evidence: sentence, source, speaker, confidence,
  similarity and a link to the sentence in its source document, rendered below the draft;
* label and minimum-confidence filters, applied in the page.

Everything taken from the input is escaped with :func:`html.escape` and put in the page as
text; the JavaScript reads only numbers and labels from ``data-`` attributes and never
builds HTML. A Content-Security-Policy that allows only the page's own script (by hash) and
no network access backs this up. Bidirectional-override characters in the input are shown
as visible markers instead of being allowed to reorder the text around them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from nli_check.types import VERDICTS, CheckResult, ClaimVerdict, Document, Finding, Sentence

__all__ = ["render"]

#: Labels in order of precedence: a claim both contradicted and supported shows as contradicted.
LABELS = ("contradiction", "entailment", "neutral")
LABEL_NAMES = {"contradiction": "Contradiction", "entailment": "Support", "neutral": "Neutral"}
GROUP_TITLES = {
    "contradiction": "Contradicted by",
    "entailment": "Supported by",
    "neutral": "Related, no verdict",
}
SYMBOLS = {"contradiction": "\u2717", "entailment": "\u2713", "neutral": "\u00b7"}
#: Claim verdicts as class-safe tokens, and how the page names them.
VERDICT_CLASSES = {
    "contradicted": "v-contradicted", "disputed": "v-disputed", "supported": "v-supported",
    "unclear": "v-unclear", "no evidence": "v-none",
}
VERDICT_TITLES = {
    "contradicted": "Contradicted: evidence contradicts this claim",
    "disputed": "Disputed: some evidence contradicts this claim, some supports it",
    "supported": "Supported: evidence supports this claim",
    "unclear": "Unclear: related evidence was found, none contradicts or supports it",
    "no evidence": "No evidence found: nothing in the sources was paired with this claim",
}

_BIDI_CONTROLS = {
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}
# Lone surrogates cannot be written as UTF-8; C0 controls other than tab and newlines (and
# DEL) are not allowed in HTML text. Both become U+FFFD.
_UNWRITABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BIDI = re.compile("[" + "".join(_BIDI_CONTROLS) + "]")
_LINE = re.compile(r"[^\r\n]+")
_SEP = ' <span class="sep">\u00b7</span> '


# --------------------------------------------------------------------------- escaping


def _clean(text: object) -> str:
    return _UNWRITABLE.sub("\ufffd", str(text))


def esc(text: object) -> str:
    """Escape any value for a quoted attribute value (or the page title): bidi controls
    are written out as ``[U+202E]`` rather than applied."""
    text = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", _clean(text))
    return html.escape(text, quote=True)


def _esc_text(text: object) -> str:
    """Escape text for element content, showing bidi controls as visible markers."""
    text = str(text)
    out = []
    last = 0
    for match in _BIDI.finditer(text):
        out.append(esc(text[last : match.start()]))
        char = match.group()
        code = f"U+{ord(char):04X}"
        out.append(
            f'<span class="ctl" title="{code} {_BIDI_CONTROLS[char]} (hidden text-direction '
            f'control in the input)">{code}</span>'
        )
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def _pct(value: float) -> str:
    return f"{round(100 * _unit(value))}%"


def _unit(value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    if value != value:  # NaN
        return 0.0
    return min(1.0, max(0.0, value))


def _label(label: str) -> str:
    """The label as a class-safe token: one of LABELS, or "other"."""
    return label if label in LABELS else "other"


# --------------------------------------------------------------------------- indexing


def _key(sentence: Sentence) -> tuple[str, int, int, str]:
    return (sentence.source, sentence.start, sentence.end, sentence.text)


@dataclass
class _Item:
    """A claim or evidence sentence that appears in findings, with its place in its document."""

    id: int
    sentence: Sentence
    findings: list[Finding] = field(default_factory=list)
    start: int | None = None
    end: int | None = None
    verdict: ClaimVerdict | None = None

    @property
    def placed(self) -> bool:
        return self.start is not None

    def top(self) -> tuple[str, float]:
        """The label a highlight shows (by precedence) and its highest confidence."""
        for label in LABELS:
            confs = [_unit(f.confidence) for f in self.findings if f.label == label]
            if confs:
                return label, max(confs)
        return "", 0.0

    def labels(self) -> set[str]:
        return {f.label for f in self.findings}


def _index(findings: Iterable[Finding], attr: str) -> dict[tuple, _Item]:
    items: dict[tuple, _Item] = {}
    for finding in findings:
        sentence = getattr(finding, attr)
        key = _key(sentence)
        if key not in items:
            items[key] = _Item(len(items) + 1, sentence)
        items[key].findings.append(finding)
    return items


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _place(documents: Sequence[Document], items: Iterable[_Item]) -> dict[str, list[_Item]]:
    """Locate each item in its document (by offsets, else by its text); drop overlaps.

    Returns the placed items per document name, sorted by offset. Items left unplaced keep
    ``start is None`` and are listed apart in the page.
    """
    texts: dict[str, str] = {}
    for doc in documents:
        texts.setdefault(doc.name, doc.text)
    per_doc: dict[str, list[_Item]] = {}
    for item in items:
        s = item.sentence
        text = texts.get(s.source)
        if text is None:
            continue
        if 0 <= s.start < s.end <= len(text) and _same_text(text[s.start : s.end], s.text):
            item.start, item.end = s.start, s.end
        elif s.text.strip():
            found = text.find(s.text.strip())
            if found >= 0:
                item.start, item.end = found, found + len(s.text.strip())
        if item.placed:
            while item.start < item.end and text[item.start].isspace():
                item.start += 1
            while item.end > item.start and text[item.end - 1].isspace():
                item.end -= 1
            if item.start == item.end:
                item.start = item.end = None
                continue
            per_doc.setdefault(s.source, []).append(item)
    for name, placed in per_doc.items():
        placed.sort(key=lambda it: (it.start, -(it.end or 0)))
        kept: list[_Item] = []
        for item in placed:
            if kept and item.start < kept[-1].end:  # overlaps the previous one: list it apart
                item.start = item.end = None
                continue
            kept.append(item)
        per_doc[name] = kept
    return per_doc


# --------------------------------------------------------------------------- documents


def _render_text(text: str, spans: Sequence[_Item], open_tag) -> str:
    """Paragraphs of ``text`` with each span wrapped by ``open_tag(item, first, last)``.

    Each line of the input is a paragraph; a span crossing a line break is split into pieces.
    """
    paragraphs = []
    i = 0  # index of the first span that may still intersect the current line
    for line in _LINE.finditer(text):
        ls, le = line.span()
        if not text[ls:le].strip():
            continue
        parts = []
        pos = ls
        while i < len(spans) and spans[i].end <= ls:
            i += 1
        j = i
        while j < len(spans) and spans[j].start < le:
            item = spans[j]
            s, e = max(item.start, ls), min(item.end, le)
            if s > pos:
                parts.append(_esc_text(text[pos:s]))
            tag, close = open_tag(item, item.start >= ls, item.end <= le)
            parts.append(f"{tag}{_esc_text(text[s:e])}{close}")
            pos = e
            if item.end > le:
                break
            j += 1
        if pos < le:
            parts.append(_esc_text(text[pos:le]))
        paragraphs.append(f"<p>{''.join(parts)}</p>")
    return "\n".join(paragraphs)


def _verdict_tag(item: _Item, first: bool, last: bool) -> tuple[str, str]:
    """A claim with a verdict but no finding listed: unverified ("no evidence") or unclear,
    marked apart from the interactive highlights."""
    verdict = item.verdict.verdict if item.verdict else "no evidence"
    classes = ["verdict", VERDICT_CLASSES.get(verdict, "v-none")]
    if last:
        classes.append("last")
    badge = "?" if verdict == "no evidence" else "\u00b7"
    return (
        f'<span class="{" ".join(classes)}" data-verdict="{esc(verdict)}" data-badge="{badge}" '
        f'title="{esc(VERDICT_TITLES.get(verdict, verdict))}">',
        "</span>",
    )


def _claim_tag(item: _Item, first: bool, last: bool) -> tuple[str, str]:
    if not item.findings:
        return _verdict_tag(item, first, last)
    label, conf = item.top()
    classes = ["claim", f"is-{_label(label)}"]
    if first:
        classes.append("first")
    if last:
        classes.append("last")
    if label == "contradiction" and "entailment" in item.labels():
        classes.append("mixed")
    attrs = [
        f'class="{" ".join(classes)}"',
        f'data-claim="{item.id}"',
        f'data-label="{esc(label)}"',
        f'data-badge="{esc(SYMBOLS.get(label, ""))} {_pct(conf)}"',
        f'style="--c:{_unit(conf):.3f}"',
    ]
    if item.verdict is not None:
        attrs.append(f'data-verdict="{esc(item.verdict.verdict)}"')
    if first:
        attrs += [
            f'id="claim-{item.id}"',
            'tabindex="0"',
            'role="button"',
            'aria-expanded="false"',
            f'aria-controls="card-{item.id}"',
        ]
    return f"<mark {' '.join(attrs)}>", "</mark>"


def _evidence_tag(item: _Item, first: bool, last: bool) -> tuple[str, str]:
    label, _ = item.top()
    attrs = [f'class="ev is-{_label(label)}{" first" if first else ""}"', f'data-ev="{item.id}"']
    if first:
        attrs.append(f'id="ev-{item.id}"')
    n = len({_key(f.claim) for f in item.findings})
    attrs.append(f'title="Evidence for {n} claim{"s" if n != 1 else ""}"')
    return f"<span {' '.join(attrs)}>", "</span>"


def _document(doc: Document, index: int, kind: str, placed: Sequence[_Item], tag) -> str:
    body = (
        _render_text(doc.text, placed, tag)
        if doc.text.strip()
        else ('<p class="muted">(empty document)</p>')
    )
    date = f' <span class="doc-date">{_esc_text(doc.date)}</span>' if doc.date else ""
    return (
        f'<section class="doc doc-{kind}" id="{kind}-doc-{index}" aria-label="{esc(doc.name)}">\n'
        f'<h3 class="doc-name"><bdi>{_esc_text(doc.name)}</bdi>{date}</h3>\n'
        f'<div class="doc-text">\n{body}\n</div>\n</section>'
    )


# --------------------------------------------------------------------------- the panel


def _speaker_line(sentence: Sentence) -> str:
    bits = []
    if sentence.speaker:
        bits.append(f'<span class="speaker"><bdi>{_esc_text(sentence.speaker)}</bdi></span>')
    if sentence.cue:
        bits.append(f'<span class="cue">\u201c<bdi>{_esc_text(sentence.cue)}</bdi>\u201d</span>')
    if sentence.polarity == -1:
        bits.append(
            '<span class="tag tag-denial" title="The reporting frame denies its content">'
            "denial</span>"
        )
    return " ".join(bits)


def _probabilities(finding: Finding) -> str:
    probs = finding.probabilities or {}
    if not probs:
        return ""
    segments = []
    described = []
    for label in (*LABELS, *sorted(k for k in probs if k not in LABELS)):
        if label not in probs:
            continue
        p = _unit(probs[label])
        name = LABEL_NAMES.get(label, label)
        described.append(f"{name} {_pct(p)}")
        segments.append(
            f'<span class="prob is-{_label(label)}" style="width:{100 * p:.1f}%"></span>'
        )
    title = esc("Model probabilities: " + ", ".join(described))
    bar = "".join(segments)
    return f'<div class="probs" role="img" aria-label="{title}" title="{title}">{bar}</div>'


def _finding(finding: Finding, ev: _Item) -> str:
    label = _label(finding.label)
    conf = _unit(finding.confidence)
    evidence = finding.evidence
    meta = [f'<span class="src"><bdi>{_esc_text(evidence.source)}</bdi></span>']
    if evidence.article_id is not None:  # an archive sentence: its article, outlet and date
        meta = [f'<span class="src">article <bdi>{_esc_text(evidence.article_id)}</bdi></span>']
        if evidence.source_name:
            meta.append(f'<span class="outlet"><bdi>{_esc_text(evidence.source_name)}</bdi></span>')
        if evidence.date:
            meta.append(f'<time class="date" datetime="{esc(evidence.date)}">{_esc_text(evidence.date)}</time>')
    speaker = _speaker_line(evidence)
    if speaker:
        meta.append(speaker)
    view = ""
    if finding.view == "content" and evidence.content:
        view = (
            '<p class="view">Judged on what is reported: \u201c'
            f"<bdi>{_esc_text(evidence.content)}</bdi>\u201d</p>"
        )
    if finding.reason:
        view += f'<p class="reason"><span class="muted">Why:</span> <bdi>{_esc_text(finding.reason)}</bdi></p>'
    link = (
        f'<a class="goto" href="#ev-{ev.id}" data-ev="{ev.id}">Show in source \u2193</a>'
        if ev.placed
        else '<span class="muted">not located in the source text</span>'
    )
    return (
        f'<li class="finding is-{label}" data-label="{esc(finding.label)}" '
        f'data-confidence="{conf:.4f}" data-ev="{ev.id}">\n'
        f'<div class="f-head"><span class="pill is-{label}">'
        f"{_esc_text(LABEL_NAMES.get(finding.label, finding.label))}</span>"
        f'<span class="conf" title="Calibrated confidence">{_pct(conf)}</span>'
        f'<span class="meter"><span style="width:{100 * conf:.1f}%"></span></span>'
        f'<span class="sim" title="Pairing similarity (cosine)">similarity '
        f"{_unit(finding.similarity):.2f}</span></div>\n"
        f'<blockquote class="quote"><bdi>{_esc_text(evidence.text)}</bdi></blockquote>\n'
        f'<div class="f-meta">{_SEP.join(meta)}</div>\n'
        f"{view}{_probabilities(finding)}\n"
        f'<div class="f-foot">{link}</div>\n</li>'
    )


def _card(claim: _Item, evidence: dict[tuple, _Item]) -> str:
    s = claim.sentence
    speaker = _speaker_line(s)
    speaker = f'<div class="f-meta">{speaker}</div>' if speaker else ""
    where = (
        f'<a class="goto" href="#claim-{claim.id}">In the draft \u2191</a>'
        if claim.placed
        else '<span class="muted">not located in the draft text</span>'
    )
    verdict = ""
    if claim.verdict is not None:
        v = claim.verdict
        conf = "" if v.confidence is None else f" {_pct(v.confidence)}"
        verdict = (
            f'<p class="card-verdict"><span class="vpill {VERDICT_CLASSES.get(v.verdict, "v-none")}" '
            f'title="{esc(VERDICT_TITLES.get(v.verdict, v.verdict))}">{_esc_text(v.verdict)}{conf}</span> '
            f'<span class="muted">claim verdict from {_plural(v.pairs, "evidence sentence")}</span></p>\n'
        )
    groups = []
    ordered = sorted(claim.findings, key=lambda f: -_unit(f.confidence))
    known = [label for label in LABELS if any(f.label == label for f in ordered)]
    other = sorted({f.label for f in ordered} - set(LABELS))
    for label in (*known, *other):
        items = [_finding(f, evidence[_key(f.evidence)]) for f in ordered if f.label == label]
        title = GROUP_TITLES.get(label, _esc_text(label))
        groups.append(
            f'<section class="group" data-group="{esc(label)}">\n'
            f'<h4 class="group-title is-{_label(label)}">{title} '
            f'<span class="count">{len(items)}</span></h4>\n'
            f'<ol class="findings">\n{chr(10).join(items)}\n</ol>\n</section>'
        )
    return (
        f'<section class="card" id="card-{claim.id}" data-claim="{claim.id}" '
        f'aria-labelledby="card-title-{claim.id}">\n'
        f'<p class="card-kicker"><bdi>{_esc_text(s.source)}</bdi> \u00b7 {where}</p>\n'
        f'<h3 class="card-claim" id="card-title-{claim.id}"><bdi>{_esc_text(s.text)}</bdi></h3>\n'
        f"{speaker}\n{verdict}"
        + "\n".join(groups)
        + '\n<p class="all-hidden muted" hidden>The filters hide all evidence for this claim.</p>'
        + "\n</section>"
    )


# --------------------------------------------------------------------------- summary


def _format_time(created: str) -> str:
    try:
        when = datetime.fromisoformat(created.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return _esc_text(created)
    text = f"{when.day} {when:%b %Y, %H:%M}"
    if when.tzinfo is not None:
        offset = when.utcoffset()
        text += " UTC" if offset is not None and not offset else f" {when:%z}"
    return _esc_text(text)


def _summary(result: CheckResult, claims: dict[tuple, _Item]) -> str:
    counts = {label: 0 for label in LABELS}
    for f in result.findings:
        counts[f.label] = counts.get(f.label, 0) + 1
    contradicted = sum(1 for c in claims.values() if "contradiction" in c.labels())
    supported = sum(
        1
        for c in claims.values()
        if "entailment" in c.labels() and "contradiction" not in c.labels()
    )
    tiles = [
        ("contradiction", contradicted, "claims contradicted"),
        ("entailment", supported, "claims supported"),
    ]
    tile_html = "".join(
        f'<div class="tile is-{label}"><span class="num">{n}</span>'
        f'<span class="what">{what}</span></div>'
        for label, n, what in tiles
    )
    if result.claims:
        verdicts = result.verdict_counts()
        tile_html = "".join(
            f'<div class="tile verdict-tile {VERDICT_CLASSES[name]}" data-verdict="{esc(name)}" '
            f'title="{esc(VERDICT_TITLES[name])}"><span class="num">{verdicts[name]}</span>'
            f'<span class="what">{"claims with " if name == "no evidence" else "claims "}{esc(name)}</span></div>'
            for name in VERDICTS
        )
    findings = " ".join(
        f'<li><span class="dot is-{_label(label)}"></span>{n} '
        f"{_esc_text(LABEL_NAMES.get(label, label).lower())}</li>"
        for label, n in counts.items()
    )
    st = result.settings
    settings = [
        ("NLI model", st.model),
        ("embeddings", st.embedding_model),
        ("device", st.device),
        ("top-k", st.top_k),
        ("min similarity", st.min_similarity),
        ("threshold", st.threshold),
        ("show", st.show),
    ]
    dl = "".join(
        f"<div><dt>{esc(k)}</dt><dd><bdi>{_esc_text(v)}</bdi></dd></div>" for k, v in settings
    )
    return (
        '<section class="summary" aria-label="Summary">\n'
        f'<div class="tiles">{tile_html}'
        '<div class="tile is-plain"><span class="what">findings</span>'
        f'<ul class="by-label">{findings}</ul>'
        f'<span class="small">{len(result.findings)} in all from {result.pairs_compared} pairs '
        f"compared, {len(result.sentences)} sentences</span></div></div>\n"
        f'<dl class="settings">{dl}</dl>\n</section>'
    )


def _filters(result: CheckResult) -> str:
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[f.label] = counts.get(f.label, 0) + 1
    boxes = "".join(
        f'<label class="chk is-{label}"><input type="checkbox" name="label" value="{label}" '
        f'checked> <span class="dot is-{label}"></span>{LABEL_NAMES[label]} '
        f'<span class="count">{counts.get(label, 0)}</span></label>'
        for label in LABELS
    )
    return (
        '<form class="filters" id="filters" aria-label="Filters">\n'
        f"<fieldset><legend>Show</legend>{boxes}</fieldset>\n"
        '<fieldset class="range"><legend>Minimum confidence</legend>'
        '<input type="range" id="min-confidence" name="min-confidence" min="0" max="100" '
        'step="1" value="0" aria-describedby="min-confidence-value"> '
        '<output id="min-confidence-value" for="min-confidence">0%</output></fieldset>\n'
        '<p class="status" id="filter-status" role="status" aria-live="polite"></p>\n'
        "</form>"
    )


# --------------------------------------------------------------------------- the page


def _asset(name: str) -> str:
    return resources.files("nli_check.report").joinpath(name).read_text(encoding="utf-8")


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render(result: CheckResult) -> str:
    """Render ``result`` as one self-contained HTML page (a ``str`` ready to write as UTF-8)."""
    claims = _index(result.findings, "claim")
    evidence = _index(result.findings, "evidence")
    unlisted = _with_verdicts(result, claims)
    claims_by_doc = _place(result.claim_documents, [*claims.values(), *unlisted])
    evidence_by_doc = _place(result.evidence, evidence.values())

    draft = (
        "\n".join(
            _document(
                doc,
                i,
                "draft",
                claims_by_doc.get(doc.name, []) if _first(result.claim_documents, i) else [],
                _claim_tag,
            )
            for i, doc in enumerate(result.claim_documents, 1)
        )
        or '<p class="muted">No claim documents.</p>'
    )
    sources = (
        "\n".join(
            _document(
                doc,
                i,
                "source",
                evidence_by_doc.get(doc.name, []) if _first(result.evidence, i) else [],
                _evidence_tag,
            )
            for i, doc in enumerate(result.evidence, 1)
        )
        or '<p class="muted">No evidence documents.</p>'
    )

    ordered = sorted(
        claims.values(),
        key=lambda c: (
            not c.placed,
            _doc_order(result.claim_documents, c.sentence.source),
            c.start if c.start is not None else c.sentence.index,
        ),
    )
    unplaced = [c for c in ordered if not c.placed]
    unplaced_html = ""
    if unplaced:
        items = "".join(
            f"<li>{_claim_tag(c, True, True)[0]}{_esc_text(c.sentence.text)}</mark>"
            f' <span class="muted">(<bdi>{_esc_text(c.sentence.source)}</bdi>)</span></li>'
            for c in unplaced
        )
        unplaced_html = (
            '<section class="doc unplaced"><h3 class="doc-name">Claims not located in the '
            f"draft text</h3><ul>{items}</ul></section>"
        )
    cards = "\n".join(_card(c, evidence) for c in ordered)
    empty = (
        "Select a highlighted claim to see its evidence."
        if claims
        else "No claim was paired with evidence, so nothing is highlighted."
    )

    names = ", ".join(_short(doc.name) for doc in result.claim_documents) or "no documents"
    script = _asset("report.js")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src {_script_hash(script)}; img-src data:; base-uri 'none'; form-action 'none'"
    )
    created = esc(result.created)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nli-check">
<title>nli-check report \u2014 {esc(names)}</title>
<style>
{_asset("report.css")}
</style>
</head>
<body>
<header class="top">
<div class="brand">nli-check <span>report</span></div>
<h1><bdi>{_esc_text(names)}</bdi></h1>
<p class="run">Checked against {_plural(len(result.evidence), "source")}
 \u00b7 <time datetime="{created}">{_format_time(result.created)}</time></p>
{_summary(result, claims)}
</header>
{_filters(result)}
<main class="layout">
<div class="reading">
<section class="draft" aria-labelledby="draft-title">
<h2 id="draft-title">The draft</h2>
<p class="legend"><span class="key is-contradiction">contradicted</span>
<span class="key is-entailment">supported</span> <span class="key is-neutral">no verdict</span>
<span class="key v-none">no evidence found</span>
 \u2014 shading and badge show the confidence; select a claim to see its evidence.</p>
{draft}
{unplaced_html}
</section>
<section class="sources" aria-labelledby="sources-title">
<h2 id="sources-title">Sources</h2>
{sources}
</section>
</div>
<aside class="panel" id="panel" aria-label="Evidence for the selected claim" aria-live="polite">
<div class="panel-nav"><button type="button" id="prev" aria-label="Previous claim">\u2039</button>
<span class="panel-title">Evidence</span>
<button type="button" id="next" aria-label="Next claim">\u203a</button></div>
<p class="panel-empty muted">{empty}</p>
{cards}
</aside>
</main>
<footer class="foot">Generated by nli-check. Labels come from an NLI model and are leads for a
 fact-checker to verify, not verdicts. Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous claim,
 <kbd>Esc</kbd> close.</footer>
<script>{script}</script>
</body>
</html>
"""


def _with_verdicts(result: CheckResult, claims: dict[tuple, _Item]) -> list[_Item]:
    """Attach each claim's verdict to its highlighted item; the claims with a verdict but no
    finding listed become items of their own (shown as unverified or unclear, not clickable)."""
    extra = []
    for verdict in result.claims:
        key = _key(verdict.claim)
        if key in claims:
            claims[key].verdict = verdict
        else:
            extra.append(_Item(0, verdict.claim, verdict=verdict))
    return extra


def _first(documents: Sequence[Document], index: int) -> bool:
    """Whether the document at 1-based ``index`` is the first of its name (highlights go there)."""
    name = documents[index - 1].name
    return next(i for i, d in enumerate(documents, 1) if d.name == name) == index


def _short(name: str) -> str:
    """A document's name without its directories, for the headline (headings keep the path)."""
    return re.split(r"[/\\]", name.rstrip("/\\"))[-1] or name


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _doc_order(documents: Sequence[Document], name: str) -> int:
    for i, doc in enumerate(documents):
        if doc.name == name:
            return i
    return len(documents)
