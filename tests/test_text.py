"""Segmentation offsets and reporting frames."""

from __future__ import annotations

import time

import pytest

from nli_check.text import MAX_SENTENCE_CHARS, denial_text, find_frame, segment, sentence_spans
from nli_check.types import Document


def _check_offsets(doc: Document, sentences) -> None:
    for i, s in enumerate(sentences):
        assert doc.text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.index == i
        assert s.source == doc.name
    # Nothing but whitespace lies outside the sentences.
    covered = bytearray(len(doc.text))
    for s in sentences:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    outside = "".join(ch for ch, c in zip(doc.text, covered) if not c)
    assert outside.strip() == ""


def test_offsets_abbreviations_and_curly_quotes():
    text = (
        "Dr. Smith met Mr. Jones at 3 p.m. in the U.S. capital.  “We are leaving,” he said.\n\n"
        "According to Gen. Ivanov, the units left on Jan. 5. The end?  Yes!"
    )
    doc = Document("a.txt", text)
    sentences = segment(doc)
    _check_offsets(doc, sentences)
    assert [s.text for s in sentences] == [
        "Dr. Smith met Mr. Jones at 3 p.m. in the U.S. capital.",
        "“We are leaving,” he said.",
        "According to Gen. Ivanov, the units left on Jan. 5.",
        "The end?",
        "Yes!",
    ]
    quoted = sentences[1]
    assert quoted.content == "We are leaving"
    assert quoted.cue == "said"
    assert sentences[2].speaker == "Gen. Ivanov"


def test_repeated_sentences_get_their_own_offsets():
    text = "Troops left. Troops left. Troops left."
    sentences = segment(Document("r", text))
    assert [(s.start, s.end) for s in sentences] == [(0, 12), (13, 25), (26, 38)]


@pytest.mark.parametrize(
    "sentence, speaker, cue, content, polarity",
    [
        ("Moscow said it was withdrawing some forces from the border.", "Moscow", "said",
         "Moscow was withdrawing some forces from the border", 1),
        ("But Ben Wallace, the defence secretary, said he had seen no evidence of withdrawal "
         "and that troops are moving into “more aggressive launch areas”.",
         "Ben Wallace, the defence secretary", "no evidence of", "withdrawal", -1),
        ("Stoltenberg said he saw “no signs of de-escalation on the ground”.", "Stoltenberg",
         "no signs of", "de-escalation on the ground", -1),
        ("Nato saw no signs of a pullback.", "Nato", "no signs of", "a pullback", -1),
        ("According to the Kremlin, troops are returning to their bases.", "the Kremlin",
         "according to", "troops are returning to their bases", 1),
        ("Troops are returning to their bases, according to the Kremlin.", "the Kremlin",
         "according to", "Troops are returning to their bases", 1),
        ("Troops are returning to their bases, the defence ministry said.", "the defence ministry",
         "said", "Troops are returning to their bases", 1),
        ("Troops are returning to their bases, said Dmitry Peskov.", "Dmitry Peskov", "said",
         "Troops are returning to their bases", 1),
        ("The spokesman said: “Units are pulling back.”", "The spokesman", "said",
         "Units are pulling back", 1),
        ("The Kremlin denied that it planned an invasion.", "The Kremlin", "denied that",
         "The Kremlin planned an invasion", -1),
        ("Officials dismissed claims that the troops had left.", "Officials",
         "dismissed claims that", "the troops had left", -1),
        # the claim with a determiner or an owner, and other words for it
        ("The printer rejected any suggestion that its staff had erred.", "The printer",
         "rejected any suggestion that", "its staff had erred", -1),
        ("The club disputed the league's account that fans had rioted.", "The club",
         "disputed the league's account that", "fans had rioted", -1),
        ("The panel rejected his explanation that the error was a typo.", "The panel",
         "rejected his explanation that", "the error was a typo", -1),
        ("There is no evidence of a withdrawal, the minister said.", "the minister",
         "no evidence of", "a withdrawal", -1),
        ("The minister told reporters that the tanks were leaving.", "The minister", "told",
         "the tanks were leaving", 1),
        ("The ministry said in a statement that units had left.", "The ministry", "said",
         "units had left", 1),
    ],
)
def test_frames(sentence, speaker, cue, content, polarity):
    frame = find_frame(sentence)
    assert frame is not None
    assert (frame.speaker, frame.cue, frame.content, frame.polarity) == (speaker, cue, content, polarity)


@pytest.mark.parametrize(
    "sentence",
    [
        "European stocks rose on the news.",
        "The plan that was announced yesterday failed.",
        "It is not clear what he said.",
        "Satellite images show the tanks have not moved.",
    ],
)
def test_no_frame(sentence):
    assert find_frame(sentence) is None
    [s] = segment(Document("x", sentence))
    assert (s.speaker, s.cue, s.content, s.polarity) == (None, None, sentence, 1)


def test_pronoun_speaker_resolved_from_previous_sentence():
    text = "Jens Stoltenberg said the alliance was ready. He added that it was still prepared for talks."
    first, second = segment(Document("x", text))
    assert first.speaker == "Jens Stoltenberg"
    assert second.speaker == "Jens Stoltenberg"
    assert second.content == "Jens Stoltenberg was still prepared for talks"


def test_denial_text_restates_the_denial_without_speaker():
    [s] = segment(Document("x", "Ben Wallace said he had seen no evidence of withdrawal."))
    assert s.polarity == -1
    assert denial_text(s) == "There is no evidence of withdrawal."
    [s] = segment(Document("x", "The Kremlin denied that troops were massing."))
    assert denial_text(s) == "It is not true that troops were massing."
    [s] = segment(Document("x", "Moscow said it was leaving."))
    assert denial_text(s) == "Moscow was leaving"


def test_five_megabyte_single_line_is_segmented_in_linear_time():
    prose = "Moscow said it was withdrawing forces. Wallace saw no sign of it. "
    run_on = "word " * 200_000  # 1 MB without a full stop
    text = (prose * 2_000) + run_on + ("tail " * 2) + ("x" * 4_000_000) + " last words."
    assert "\n" not in text and len(text) > 5_000_000
    doc = Document("big.txt", text)
    started = time.perf_counter()
    sentences = segment(doc)
    elapsed = time.perf_counter() - started
    _check_offsets(doc, sentences)
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE_CHARS
    assert sentences[0].text == "Moscow said it was withdrawing forces."
    assert sentences[-1].text.endswith("last words.")
    assert elapsed < 90, f"segmenting 5 MB took {elapsed:.0f}s"


def test_long_prose_line_chunked_without_losing_text():
    sentence = "The convoy, according to Mr. Petrov, left at 6 a.m. on Tuesday. "
    text = sentence * 400  # ~26 kB on one line: several pysbd chunks
    doc = Document("p", text)
    sentences = segment(doc)
    _check_offsets(doc, sentences)
    assert len(sentences) == 400
    assert all(s.text == sentence.strip() for s in sentences)


def test_spans_of_blank_lines_and_whitespace():
    assert sentence_spans("   \n\n  ") == []
    text = "First line without stop\n\nSecond one."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["First line without stop", "Second one."]
