"""Sentences with exact character offsets, and the reporting frames inside them.

:func:`segment` splits a :class:`~nli_check.types.Document` into
:class:`~nli_check.types.Sentence`\\ s with pysbd. Every sentence satisfies
``document.text[s.start:s.end] == s.text``, and no non-blank text is ever dropped.

Long inputs are cut at line breaks first, and lines longer than :data:`CHUNK_CHARS` are cut
into bounded chunks at a sentence-like boundary (or whitespace), so segmentation time stays
linear in the input size; pysbd slows down sharply on very long strings.

Reporting frames ("Moscow said it was withdrawing forces", "..., according to the Kremlin",
"Wallace said he had seen no evidence of withdrawal") are recognised by regular expressions
built from a reporting-verb lexicon, without a parser: :func:`find_frame` returns the
speaker, the cue, the reported content (with a pronoun subject replaced by the speaker) and
the cue's polarity (``-1`` when the speaker denies the content).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from nli_check.types import Document, Sentence

logger = logging.getLogger(__name__)

#: Lines longer than this are cut into chunks of at most this many characters before pysbd.
CHUNK_CHARS = 4000
#: A "sentence" longer than this (a run-on line without punctuation) is cut at whitespace.
MAX_SENTENCE_CHARS = 2000

# ---------------------------------------------------------------------------- lexicon
#: Verbs that report what a source asserts (past, present and base forms).
REPORTING_VERBS: tuple[str, ...] = (
    "said", "says", "say", "told", "tells", "added", "adds", "stated", "states", "claimed",
    "claims", "announced", "announces", "insisted", "insists", "warned", "warns", "argued",
    "argues", "reported", "reports", "confirmed", "confirms", "noted", "notes", "explained",
    "explains", "suggested", "suggests", "acknowledged", "acknowledges", "admitted", "admits",
    "maintained", "maintains", "asserted", "asserts", "alleged", "alleges", "declared",
    "declares", "stressed", "stresses", "believes", "believed", "thinks", "thought", "wrote",
    "writes", "tweeted", "tweets", "posted", "posts", "revealed", "reveals", "indicated",
    "indicates", "estimated", "estimates", "predicted", "predicts", "promised", "promises",
    "vowed", "vows", "agreed", "agrees", "concluded", "concludes", "observed", "observes",
    "pointed out", "points out", "made clear", "makes clear", "emphasised", "emphasized",
    "emphasises", "emphasizes", "clarified", "clarifies", "conceded", "concedes", "contended",
    "contends", "countered", "counters", "replied", "replies", "responded", "responds",
    "testified", "testifies", "hinted", "hints", "signalled", "signaled", "signals",
)
#: Verbs by which a source asserts that the content is false.
DENIAL_VERBS: tuple[str, ...] = (
    "denied", "denies", "deny", "rejected", "rejects", "dismissed", "dismisses", "disputed",
    "disputes", "refuted", "refutes", "rebutted", "rebuts", "contested", "contests",
    "debunked", "debunks", "ruled out", "rules out", "rubbished", "rubbishes",
)
#: Nouns of "denied reports that P", "dismissed claims of P".
_CLAIM_NOUNS = (
    r"(?:(?:the|any|all|his|her|its|their|our|these|those)\s+)?(?:[\w-]+(?:'s|’s)\s+)?"
    r"(?:claims?|reports?|suggestions?|allegations?|accusations?|speculation|"
    r"rumou?rs?|assertions?|notions?|the\s+idea|ideas?|talk|charges?|statements?|accounts?|explanations?|"
    r"versions?|characteri[sz]ations?|interpretations?)"
)
#: "no evidence of", "no sign that", "nothing to suggest".
_NO_EVIDENCE = (
    r"(?P<neg>no(?:\s+(?:real|clear|concrete|credible|firm|visible|further|actual))?\s+"
    r"(?:evidence|signs?|indications?|proof|sign\s+yet|confirmation|trace)\s+(?:of|that|for)"
    r"|nothing\s+to\s+(?:suggest|indicate|show)(?:\s+that)?)"
)
_SAW_VERBS = (
    r"(?:(?:had|has|have)\s+(?:yet\s+to\s+see|not\s+seen|seen|found|detected|observed|got)|"
    r"saw|sees|see|found|finds|find|detected|detects|observed|observes|"
    r"(?:did|does|do)\s+not\s+(?:see|find)|could\s+(?:see|find)|can\s+(?:see|find))"
)
_PRONOUNS = {"he", "she", "it", "they", "we", "i"}
_ADVERBS = (
    r"(?:(?:has|have|had|also|again|later|then|previously|repeatedly|recently|earlier|"
    r"publicly|flatly|firmly|strongly|swiftly|quickly|on\s+\w+day|today|yesterday|"
    r"separately|once|already|has\s+also|had\s+also)\s+)*"
)
_LEADERS = re.compile(
    r"^(?:(?:but|and|yet|so|still|however|meanwhile|moreover|now|instead|indeed|then|"
    r"separately|earlier|later|also|in\s+(?:a|an|the)\s+\w+(?:\s+\w+)?|on\s+\w+day|"
    r"today|yesterday)\b[,\s]*)+",
    re.IGNORECASE,
)
_OPEN_QUOTES = "\"“‘'«„"
_CLOSE_QUOTES = "\"”’'»“"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_VERB = _alternation(REPORTING_VERBS)
_DENY = _alternation(DENIAL_VERBS)
#: A speaker: a short noun phrase, possibly with an appositive in commas.
_SPEAKER = r"(?P<S>[^\s,.;:!?\"“”][^.;:!?\"“”]{0,120}?)"
_Q = r"(?:[\"“‘]\s*)?"
_TOLD = (
    r"(?:(?:(?<=told)|(?<=tells)|(?<=warned)|(?<=assured)|(?<=informed)|(?<=reminded))"
    r"\s+[^,\"“]{1,60}?(?=\s+that\s))?"
)
_PP = r"(?:\s+(?:in|on|to|during|at|after|before)\s+[^,\"“]{1,50}?(?=\s+that\s))?"
_QUOTED = r"[\"“‘«](?P<P>.+?)[,.!?]?[\"”’»]"


@dataclass(frozen=True)
class Frame:
    """A reporting frame found in a sentence."""

    speaker: str
    cue: str
    content: str
    polarity: int


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern, int]]:
    flags = re.IGNORECASE | re.DOTALL
    that = r"(?:that\s+)?"
    return [
        # S said he had seen no evidence of P / S said there was no sign that P
        ("no_evidence", re.compile(
            rf"^{_SPEAKER},?\s+{_ADVERBS}(?P<V>{_VERB})\s*:?\s+{that}"
            rf"(?:(?:he|she|they|it|we|i)\s+{_SAW_VERBS}|there\s+(?:is|was|were|are|had\s+been|has\s+been))\s+"
            rf"{_Q}{_NO_EVIDENCE}\s+(?P<P>.+)$", flags), -1),
        # S saw no signs of P / S has seen no evidence that P / S found nothing to suggest P
        ("no_evidence", re.compile(
            rf"^{_SPEAKER},?\s+{_ADVERBS}{_SAW_VERBS}\s+{_Q}{_NO_EVIDENCE}\s+(?P<P>.+)$", flags), -1),
        # There is no evidence of P, S said
        ("no_evidence_inverted", re.compile(
            rf"^there\s+(?:is|was|are|were|has\s+been|had\s+been)\s+{_NO_EVIDENCE}\s+(?P<P>.+?),\s+"
            rf"(?:{_SPEAKER}\s+(?P<V>{_VERB})|(?P<V2>{_VERB})\s+(?P<S2>[^,.;:!?]{{1,120}}?)"
            rf"|according\s+to\s+(?P<S3>[^,.;:!?]{{1,120}}?))\s*[.!?]?$", flags), -1),
        # S denied (reports/claims) that P / S dismissed claims of P
        ("deny", re.compile(
            rf"^{_SPEAKER},?\s+{_ADVERBS}(?P<V>{_DENY})\s+(?:{_CLAIM_NOUNS}\s+)?"
            rf"(?P<link>that|of|about)\s+(?P<P>.+)$", flags), -1),
        # S said: “P”
        ("quote_after", re.compile(
            rf"^{_SPEAKER},?\s+{_ADVERBS}(?P<V>{_VERB})\s*[:,]\s*{_QUOTED}\s*$", flags), 1),
        # “P,” S said. / “P,” said S.
        ("quote_before", re.compile(
            rf"^{_QUOTED}\s*,?\s*(?:(?P<S2>[^,.;:!?\"“”]{{1,120}}?)\s+(?P<V>{_VERB})|"
            rf"(?P<V2>{_VERB})\s+(?P<S3>[^,.;:!?\"“”]{{1,120}}?))\s*[.!?]?\s*$", flags), 1),
        # According to S, P
        ("according_before", re.compile(
            r"^according\s+to\s+(?P<S>[^,]{1,120}?),\s+(?P<P>.+)$", flags), 1),
        # P, according to S.
        ("according_after", re.compile(
            r"^(?P<P>.+?),?\s+according\s+to\s+(?P<S>[^,.;:!?]{1,120}?)\s*[.!?]?$", flags), 1),
        # P, S said. / P, said S.
        ("inverted", re.compile(
            rf"^(?P<P>.+?),\s+(?:(?P<S2>[^,.;:!?\"“”]{{1,120}}?)\s+{_ADVERBS}(?P<V>{_VERB})|"
            rf"(?P<V2>{_VERB})\s+(?P<S3>[^,.;:!?\"“”]{{1,120}}?))\s*[.!?]?$", flags), 1),
        # S said (that) P
        ("say", re.compile(
            rf"^{_SPEAKER},?\s+{_ADVERBS}(?P<V>{_VERB}){_TOLD}{_PP}\s+(?:(?:to|in)\s+[^,]{{1,60}},\s+)?"
            rf"{that}(?P<P>.+)$", flags), 1),
    ]


def find_frame(sentence: str) -> Frame | None:
    """The reporting frame of one sentence, or ``None`` when it reports nobody.

    >>> find_frame("Moscow said it was withdrawing some forces.").content
    'Moscow was withdrawing some forces'
    >>> f = find_frame("Wallace said he had seen no evidence of withdrawal.")
    >>> f.speaker, f.cue, f.content, f.polarity
    ('Wallace', 'no evidence of', 'withdrawal', -1)
    """
    text = " ".join(sentence.split())
    lead = _LEADERS.match(text)
    if lead:
        text = text[lead.end():]
    if not text or len(text) > MAX_SENTENCE_CHARS:
        return None
    for kind, pattern, polarity in _patterns():
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groupdict()
        speaker = groups.get("S") or groups.get("S2") or groups.get("S3")
        content = groups.get("P")
        speaker = _clean_speaker(speaker)
        if not speaker or not content or not _plausible_speaker(speaker):
            continue
        content = _clean_content(content)
        if len(content.split()) < 1:
            continue
        if kind.startswith("no_evidence"):
            cue = " ".join(groups["neg"].lower().split())
            content = _first_clause(content)
        elif kind == "deny":
            cue = " ".join(groups["V"].lower().split())
            noun = re.search(rf"{_CLAIM_NOUNS}\s+{groups['link']}\s", match.group(0), re.IGNORECASE)
            if noun:
                cue = f"{cue} {' '.join(noun.group(0).lower().split())}"
            else:
                cue = f"{cue} {groups['link'].lower()}"
            content = _first_clause(content)
        elif kind.startswith("according"):
            cue = "according to"
        else:
            cue = " ".join((groups.get("V") or groups.get("V2") or "").lower().split())
        if kind in {"say", "quote_after", "quote_before", "inverted", "according_before",
                    "according_after", "deny"}:
            content = _replace_pronoun_subject(content, speaker)
        if not content:
            continue
        return Frame(speaker=speaker, cue=cue, content=content, polarity=polarity)
    return None


def _clean_speaker(speaker: str | None) -> str | None:
    if not speaker:
        return None
    speaker = speaker.strip().strip(",").strip()
    speaker = re.sub(r"^(?:the\s+)?(?:but|and|yet|however|meanwhile)\s+", "", speaker, flags=re.I)
    return speaker or None


_NOT_SPEAKER = re.compile(
    r"\b(?:is|are|was|were|be|been|being|will|would|could|should|can|may|might|must|do|does|"
    r"did|not|no|if|when|because|which|who|whom|whose|while|although|though|than|this|these|"
    r"those|there)\b",
    re.IGNORECASE,
)


def _plausible_speaker(speaker: str) -> bool:
    words = speaker.split()
    if len(words) > 12:
        return False
    if speaker.lower() in _PRONOUNS:
        return True
    # "Ben Wallace, the defence secretary" is fine; "the plan that was announced" is not.
    head = speaker.split(",")[0]
    if _NOT_SPEAKER.search(head):
        return False
    return any(ch.isalpha() for ch in speaker)


def _clean_content(content: str) -> str:
    content = content.strip()
    while content and content[-1] in ".,;:!? " + _CLOSE_QUOTES:
        content = content[:-1].rstrip()
    while content and content[0] in _OPEN_QUOTES + " ":
        content = content[1:].lstrip()
    # Unbalanced quote marks left inside after stripping the frame's own quotes.
    return content.replace("“", "").replace("”", "") if content.count("“") != content.count("”") else content


def _first_clause(content: str) -> str:
    """Cut a denied content at "and that ..." / ", but ..." so only what was denied remains."""
    parts = re.split(r"\s+and\s+that\s+|,\s+(?:but|while|and|although|as)\s+|;\s+", content, maxsplit=1)
    return parts[0].strip()


def speaker_name(speaker: str) -> str:
    """The name part of a speaker: "Ben Wallace, the defence secretary" -> "Ben Wallace"."""
    return speaker.split(",")[0].strip()


def _replace_pronoun_subject(content: str, speaker: str) -> str:
    """"it was withdrawing forces" said by Moscow -> "Moscow was withdrawing forces"."""
    match = re.match(r"(he|she|it|they)\b(?P<rest>(?:'s|’s)?\s+\S.*)$", content, re.IGNORECASE | re.DOTALL)
    if not match or speaker.lower() in _PRONOUNS:
        return content
    name = speaker_name(speaker)
    if not name or name.lower() in _PRONOUNS:
        return content
    name = name[0].upper() + name[1:] if name[0].islower() and name.lower().startswith("the ") else name
    return f"{name}{match.group('rest')}"


def denial_text(sentence: Sentence) -> str:
    """How a denied content is put to the NLI model: "There is no evidence of withdrawal."

    For a sentence with a denial cue (polarity ``-1``) this restates what its speaker asserts,
    without the speaker: "no evidence of P" -> "There is no evidence of P.", "denied that P"
    -> "It is not true that P.". Other sentences give their content unchanged.
    """
    content = sentence.content or sentence.text
    if sentence.polarity >= 0 or not sentence.cue:
        return content
    cue = sentence.cue
    if cue.startswith(("no ", "nothing ")):
        verb = "are" if re.match(r"no\s+\w*s\s", cue + " ") and not cue.startswith("no evidence") else "is"
        if cue.startswith("nothing"):
            return f"There is {cue} {content}."
        return f"There {verb} {cue} {content}."
    if cue.endswith(" of") or cue.endswith(" about"):
        return f"It is not true that there is {content}."
    return f"It is not true that {content}."


# ---------------------------------------------------------------------------- segmentation
@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


_TERMINALS = re.compile(r"[.!?…]")


def sentence_spans(text: str, *, name: str | None = None, progress=None) -> list[tuple[int, int]]:
    """``(start, end)`` of every sentence in ``text``, in order, whitespace trimmed.

    Every non-whitespace character of ``text`` lies in exactly one span. Runs longer than
    :data:`MAX_SENTENCE_CHARS` without sentence punctuation are cut into pieces, and one
    warning (naming ``name``) says how many. ``progress(n)``, if given, is called with the
    number of characters done after each block.
    """
    spans: list[tuple[int, int]] = []
    runs = chars = 0
    done = 0
    for block_start, block_end in _blocks(text):
        for start, end in _segment_block(text, block_start, block_end):
            if end - start > MAX_SENTENCE_CHARS:
                runs += 1
                chars += end - start
            spans.extend(_cap_length(text, start, end))
        if progress is not None:
            progress(block_end - done)
            done = block_end
    if progress is not None and len(text) > done:
        progress(len(text) - done)
    if runs:
        logger.warning(
            "%s: %d run(s) without sentence punctuation (%d characters in all) were cut into "
            "pieces of at most %d characters", name or "text", runs, chars, MAX_SENTENCE_CHARS,
        )
    return spans


def _segment_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Segment a block of any length by feeding pysbd windows of at most CHUNK_CHARS.

    In each window every sentence but the last is kept; the next window starts where that
    last (perhaps cut-off) sentence starts. A window with no boundary at all is cut at
    whitespace.
    """
    spans: list[tuple[int, int]] = []
    while end - start > CHUNK_CHARS:
        window = _segment_chunk(text, start, start + CHUNK_CHARS)
        if len(window) >= 2:
            spans.extend(window[:-1])
            start = window[-1][0]
            continue
        (_, cut), = _chunks(text, start, end)[:1]
        spans.extend(_segment_chunk(text, start, cut))
        start = cut
    spans.extend(_segment_chunk(text, start, end))
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Lines of text (a sentence never runs across a blank line; single newlines are kept
    inside a block unless the block grows past the chunk size)."""
    blocks = []
    start = 0
    for match in re.finditer(r"\n[ \t\r\f\v]*\n", text):
        blocks.append((start, match.start()))
        start = match.end()
    blocks.append((start, len(text)))
    out = []
    for start, end in blocks:
        if end - start <= CHUNK_CHARS:
            out.append((start, end))
            continue
        # A long paragraph: its single line breaks are natural cut points.
        line_start = start
        for match in re.finditer(r"\n", text[start:end]):
            out.append((line_start, start + match.start()))
            line_start = start + match.end()
        out.append((line_start, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _chunks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most :data:`CHUNK_CHARS`, at whitespace
    where there is some, else anywhere."""
    chunks = []
    while end - start > CHUNK_CHARS:
        limit = start + CHUNK_CHARS
        window = text[start + CHUNK_CHARS // 2 : limit]
        cut = None
        space = max(window.rfind(" "), window.rfind("\t"), window.rfind("\n"))
        if space >= 0:
            cut = start + CHUNK_CHARS // 2 + space + 1
        if cut is None or cut <= start:
            cut = limit
        chunks.append((start, cut))
        start = cut
    chunks.append((start, end))
    return chunks


def _segment_chunk(text: str, start: int, end: int) -> list[tuple[int, int]]:
    chunk = text[start:end]
    if not chunk.strip():
        return []
    if not _TERMINALS.search(chunk) and "\n" not in chunk.strip():
        return [_trim(text, start, end)]
    pieces = _segmenter().segment(chunk)
    spans = []
    cursor = 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        found = chunk.find(piece, cursor)
        if found < 0:
            found, piece_end = _align(chunk, piece, cursor)
            if found < 0:
                break
        else:
            piece_end = found + len(piece)
        if chunk[cursor:found].strip():  # text the splitter skipped: keep it, never drop it
            spans.append(_trim(text, start + cursor, start + found))
        spans.append((start + found, start + piece_end))
        cursor = piece_end
    if chunk[cursor:].strip():
        spans.append(_trim(text, start + cursor, end))
    return spans


def _align(chunk: str, piece: str, cursor: int) -> tuple[int, int]:
    """Find ``piece`` in ``chunk`` ignoring differences in whitespace."""
    words = piece.split()
    if not words:
        return -1, -1
    pattern = r"\s*".join(re.escape(w) for w in words)
    match = re.compile(pattern).search(chunk, cursor)
    if not match:
        return -1, -1
    return match.start(), match.end()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cap_length(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if end - start <= MAX_SENTENCE_CHARS:
        return [(start, end)]
    spans = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        space = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, limit)
        cut = space if space > start else limit
        spans.append(_trim(text, start, cut))
        start, _ = _trim(text, cut, end)
    if start < end:
        spans.append((start, end))
    return [s for s in spans if s[1] > s[0]]


def segment(document: Document, *, frames: bool = True, progress=None) -> list[Sentence]:
    """Split a document into sentences with offsets, speakers and reporting frames.

    ``document.text[s.start:s.end] == s.text`` for every sentence ``s``. A sentence without a
    reporting frame has ``content == text``, no speaker and polarity ``1``. A pronoun speaker
    ("he said") is resolved to the last named speaker of the two sentences before it.
    ``progress(n)`` is told of every ``n`` characters segmented (see :func:`sentence_spans`).
    """
    text = document.text
    sentences: list[Sentence] = []
    last_named: tuple[int, str] | None = None
    for index, (start, end) in enumerate(sentence_spans(text, name=document.name, progress=progress)):
        chunk = text[start:end]
        speaker = cue = None
        content = chunk
        polarity = 1
        frame = find_frame(chunk) if frames else None
        if frame is not None:
            speaker, cue, content, polarity = frame.speaker, frame.cue, frame.content, frame.polarity
            if speaker.lower() in _PRONOUNS:
                if last_named is not None and index - last_named[0] <= 2:
                    speaker = last_named[1]
                    content = _replace_pronoun_subject(content, speaker)
            else:
                last_named = (index, speaker)
        sentences.append(
            Sentence(
                text=chunk, source=document.name, start=start, end=end, index=index,
                speaker=speaker, cue=cue, content=content, polarity=polarity,
            )
        )
    return sentences
