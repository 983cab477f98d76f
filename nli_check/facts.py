"""Numbers, dates and names in a sentence, and whether two sentences are about the same event.

The NLI model is weak exactly where fact-checkers need it most: it takes two reports of
different events that share a template ("Ashby approved 240 homes" / "Brindle approved 75
homes") for a contradiction, it calls "18,400" against "18,412" a conflict, and it misses "about
120 jobs" against "450 redundancies". This module reads the facts a sentence states so that
:func:`compare` can say, for a pair of sentences:

- ``different-event``: they are about different events: each names a place, person or
  organisation the other does not, or they give different dates or periods *and* different
  figures ("58% in October" / "69% in September");
- ``conflict``: the same measure with incompatible values ("120 vs 450 jobs"), or the same
  event on incompatible dates ("Thursday vs Friday 13 March 2026");
- ``agree``: the values they share are compatible, allowing for rounding ("18,400" is
  18,350–18,450), hedges ("about", "nearly", "more than"), ranges, and equivalences such as
  "a quarter" = 25% or "£1.65 a week" ≈ "£86 a year";
- ``None``: nothing to compare.

Number words become digits with ``text2num``, and explicit dates are read with ``dateparser``.
The quantities news copy states (money with its scale, percentages, fractions, counts with
the noun they count, hedges and ranges) are read by the small grammar below: general quantity
parsers read "£2m" as pounds times metres and "half a million" as 1.5 million.

Every function here is total: odd text gives no facts, never an exception, in time linear in
the text; sentences longer than :data:`MAX_CHARS` are not read (the NLI verdict then stands
alone).
"""

from __future__ import annotations

import datetime
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from nli_check.text import DENIAL_VERBS, speaker_name

logger = logging.getLogger(__name__)

#: Sentences longer than this are not read for facts.
MAX_CHARS = 1000
#: Reports of one event appear within this many days of each other: figures or days that
#: differ between articles further apart are about different times.
EVENT_DAYS = 7
#: Digits before the decimal point beyond which a number is not read (IDs, digit runs).
MAX_DIGITS = 15

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
QUARTERS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "q1": 1, "q2": 2, "q3": 3, "q4": 4}
SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
          "trillion": 1e12, "tn": 1e12}
CURRENCIES = {"£": "GBP", "$": "USD", "€": "EUR", "pounds": "GBP", "pound": "GBP", "dollars": "USD",
              "dollar": "USD", "euros": "EUR", "euro": "EUR", "pence": "GBP/100", "p": "GBP/100"}
#: Fractions of a whole, as percentages: "a quarter of staff" = 25% of employees.
FRACTIONS = {
    "half": 50.0, "a half": 50.0, "one half": 50.0, "a third": 100 / 3, "one third": 100 / 3,
    "one-third": 100 / 3, "two thirds": 200 / 3, "two-thirds": 200 / 3, "a quarter": 25.0,
    "one quarter": 25.0, "three quarters": 75.0, "three-quarters": 75.0, "a fifth": 20.0, "one fifth": 20.0,
    "two fifths": 40.0, "three fifths": 60.0, "four fifths": 80.0, "a tenth": 10.0, "one tenth": 10.0,
}
#: Hedges before a number: the interval around the value, as (low, high) factors.
HEDGES = {
    "about": (0.85, 1.15), "around": (0.85, 1.15), "roughly": (0.85, 1.15), "approximately": (0.85, 1.15),
    "some": (0.85, 1.15), "circa": (0.85, 1.15), "an estimated": (0.85, 1.15), "estimated": (0.85, 1.15),
    "almost": (0.85, 1.0), "nearly": (0.85, 1.0), "close to": (0.85, 1.05), "just under": (0.9, 1.0),
    "up to": (0.0, 1.0), "under": (0.0, 1.0), "less than": (0.0, 1.0), "fewer than": (0.0, 1.0),
    "below": (0.0, 1.0), "at most": (0.0, 1.0), "no more than": (0.0, 1.0),
    "more than": (1.0, math.inf), "over": (1.0, math.inf), "at least": (1.0, math.inf),
    "above": (1.0, math.inf), "upwards of": (1.0, math.inf), "in excess of": (1.0, math.inf),
    "just over": (1.0, 1.1), "just above": (1.0, 1.1), "well over": (1.05, math.inf),
}
#: Periods of a rate, as factors to a year: "£1.65 a week" is £85.80 a year.
PER = {"day": 365.0, "week": 52.0, "month": 12.0, "year": 1.0, "annum": 1.0}
#: Words that mark a figure as a part of a larger one ("in Stonebridge alone, 9,500").
PART_MARKERS = re.compile(r"\b(alone|of whom|of which|of (?:those|these)(?=,)|including|among them|a further|another|"
                          r"(?<!in )extra|additional|so far|latest|remaining|still|largest|biggest|smallest|for each|"
                          r"for every|towards?)\b",
                          re.I)
#: Words with which news copy brings in another event than the one it reports. "Separately,"
#: opens another story; "not inspected separately" is how one thing was done.
OTHER_EVENT = re.compile(
    r"\b(last year's|next year's|next season's|"
    r"(?<!than )(?<!on )(?<!with )(?<!period )(?<!since )last year\b(?! alone)|last season|"
    r"(?<!until )(?<!since )(?<!by )last (?:summer|winter|spring|autumn)|"
    r"(?<!at )(?<!the )last (?!updated\b)[a-z]+ed\b|"
    r"a year earlier|a year ago|the year before|in a separate \w+|separately(?=\s*,)|neighbouring|rival|"
    r"the reverse fixture|"
    r"a previous|the previous|previously|an earlier|earlier this year|(?<!for )the last time|(?<!for the )last time|"
    r"(?<!for )the last (?!\d|few|several|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\w+ )?"
    r"(?:rise|increase|cut|fall|election|vote|race|match|game|meeting|time|season|strike|truce|ceasefire)|"
    r"a smaller|a larger|a bigger|a similar|another)\b",
    re.I,
)
#: Capitalised words that are not names.
_NOT_NAMES = set(WEEKDAYS) | set(MONTHS) | {
    "the", "a", "an", "in", "on", "at", "by", "for", "of", "to", "and", "but", "or", "as", "after",
    "before", "since", "until", "from", "with", "this", "that", "these", "those", "it", "its", "he", "she",
    "they", "we", "his", "her", "their", "our", "there", "here", "when", "while", "if", "only", "just",
    "last", "next", "both", "all", "some", "many", "more", "most", "no", "not", "nobody", "none", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "about", "around", "nearly",
    "mr", "mrs", "ms", "dr", "sir", "according", "despite", "although", "however", "meanwhile", "earlier",
    "later", "today", "yesterday", "tomorrow", "tonight", "so", "yet", "also", "then", "now", "what",
    "who", "which", "where", "why", "how", "because", "under", "over", "between", "during", "among",
    "mph", "km", "per", "new", "old",
}

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"thousand|million|billion|trillion|bn|mn|tn|m|k"
_NUMBER = re.compile(rf"(?<![\w.,/])(?P<cur>[£$€])?\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE})\b)?(?![.,]?\d)",
                     re.I)
_RANGE_TAIL = re.compile(rf"^\s?(?:-|–|to|and)\s?[£$€]?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE})\b)?", re.I)
_PCT_TAIL = re.compile(r"^\s?(?:%|per\s?cent\b|percent\b)", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_HEDGE_BEFORE = re.compile(r"\b(" + "|".join(sorted((re.escape(h) for h in HEDGES), key=len, reverse=True))
                           + r")\s+(?:of\s+)?[£$€]?$", re.I)
_FRACTION = re.compile(r"\b(" + "|".join(sorted((re.escape(f) for f in FRACTIONS), key=len, reverse=True))
                       + r")\b(?!\s+(?:of\s+)?an?\s+(?:thousand|million|billion))(?:\s+of)?"
                       r"(?:\s+(?:the|its|their|all))?(?:\s+(?P<noun>[a-z]+))?", re.I)
#: Counts news copy gives only roughly: "hundreds of knives" is 200 to 999 of them.
VAGUE = {"dozens": (24, 120), "scores": (40, 200), "hundreds": (200, 999), "thousands": (2e3, 9999),
         "tens of thousands": (2e4, 99999), "hundreds of thousands": (2e5, 999999), "millions": (2e6, 9999999)}
_VAGUE = re.compile(r"\b(?P<v>tens of thousands|hundreds of thousands|dozens|scores|hundreds|thousands|millions)"
                    r"\s+of\b(?P<after>(?:\s+[A-Za-z][A-Za-z'’-]*){0,3})", re.I)
#: "several million pounds", "a few thousand people": so many of the scale, not one.
SEVERAL = {"several": (2, 9), "a few": (2, 5), "a couple of": (2, 3), "many": (2, 99)}
_SEVERAL_SCALES = {"hundred": 100.0, **SCALES}
_SEVERAL = re.compile(r"\b(?P<v>several|a few|a couple of|many) (?P<scale>hundred|thousand|million|billion)s?\b"
                      r"(?:\s+of)?(?P<after>(?:\s+[A-Za-z][A-Za-z'’-]*){0,3})", re.I)
_ONE_IN = re.compile(rf"\b(?P<a>{_NUM}) (?:in(?: every)?|out of) (?!(?:19|20)\d\d\b)(?P<b>{_NUM})\b", re.I)
_ID = re.compile(r"\b(?P<word>day|week|round|stage|leg|game|match|race|flight|route|room|page|chapter|section|"
                 r"phase|term|series|season|episode|number|no\.?|platform|gate|ward|zone|block|level|grade|"
                 r"article|clause|version|model|junction|exit|bus|train|line|reactor|unit|terminal|runway|pier|berth|"
                 r"lane)\s+(?P<n>\d+[a-z]?)\b", re.I)
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")(?:'s)?\b", re.I)
_MONTH_NAMES = "|".join(MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
_DATE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH_NAMES})\b\.?(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?"
    rf"|\b(?P<m2>{_MONTH_NAMES})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?",
    re.I,
)
_MONTH = re.compile(r"\b(?:in|during|since|by|until|from|of|last|this|next|early|late|mid-?|for|throughout)\s+"
                    r"(?P<m>" + "|".join(m for m in MONTHS if m != "may") + r"|may(?=\s+(?:19|20)\d\d))\b", re.I)
_YEAR = re.compile(r"(?<![\d.,£$€])\b(?P<y>(?:19|20)\d\d)\b(?![.,]\d|\s?%|\s?(?:per\s?cent|percent))", re.I)
_QUARTER = re.compile(r"\b(?P<q>first|second|third|fourth)[\s-]+quarter\b|\b(?P<q2>Q[1-4])\b", re.I)
_RELATIVE = re.compile(r"\b(?:(?:last|this|next|previous|coming) (?:week|weekend|month|quarter|year|season|summer|"
                       r"winter|spring|autumn)|yesterday|today|tonight|tomorrow)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]*[a-zA-Z]")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?:\s?[ap]\.?m\b\.?)?|\b\d{1,2}(?:\.\d{2})?\s?[ap]\.?m\b\.?", re.I)
_SCORE = re.compile(r"\b\d{1,2}-\d{1,2}\b")
#: A magnitude (of an earthquake): "a magnitude 6.4 earthquake", "of magnitude 5.7".
_MAGNITUDE_BEFORE = re.compile(r"\bmagnitude[\s-]?$", re.I)
#: A count of what someone holds, not of what happened: "leases 140 pubs", "now has 611 pubs"
#: is no measure of "42 pubs closed".
_HELD_BEFORE = re.compile(r"\b(?:has|have|had|leases?|leased|owns?|owned|operates?|operated|runs?|employs?|employed|"
                          r"manages?|managed|houses?|housed)\s+(?:a total of\s+|an estimated\s+)?"
                          r"(?:about|around|some|nearly|almost|more than|over|just over|just under|roughly|fewer than)?"
                          r"\s*$", re.I)
#: A record over a span: "the slowest increase for two years", "the first rise in 18 months".
_RECORD_BEFORE = re.compile(r"\b(?:the|its|their)\s+(?:\w+est|most \w+|least \w+|first|1st|only)\b[^,;.]*?"
                            r"\b(?:for|in)\s+"
                            r"(?:over\s+|more than\s+|almost\s+|nearly\s+|at least\s+)?$", re.I)
#: A total right after a part of it: "14,000 of the district's 22,000", "nine out of 12".
_TOTAL_BEFORE = re.compile(r"\d\s+(?:[a-z]+\s+)?(?:out\s+)?of\s+(?:the\s+|its\s+|their\s+|all\s+)?"
                           r"(?:[\w-]+(?:'s|’s)\s+)?[£$€]?$", re.I)
#: A figure that was expected, forecast or set as a target, not the outcome: "analysts had expected
#: profit of £180m", "guidance says assessments should begin within 13 weeks".
_EXPECTED_BEFORE = re.compile(r"\b(?:had (?:\w+ ){0,2}(?:expected|forecast|predicted)|analysts(?:'|’)? ?(?:\w+ ){0,3}"
                              r"(?:expected|forecast|predicted|estimated)|forecasts? of|consensus|expectations? of|"
                              r"targets?|standard|guidance|goal|aims? (?:to|for))\b", re.I)
#: A level the figure is compared with, not the one stated: "up from £255", "instead of half".
_OTHER_LEVEL_BEFORE = re.compile(r"\b(?:from|instead of|rather than|compared with|compared to)\s*"
                                 r"(?:about|around|nearly|almost|just|more than|less than|over|under)?\s*[£$€]?$", re.I)
_CHANGE_BEFORE = re.compile(r"\b(?:(?:rose|risen|fell|fallen|grew|grown|dropped|climbed|declined|jumped|slipped|"
                            r"increased?|decreased?|rise|rising|fall|falling|cut|reduced?|raised?|lowered|boosted|"
                            r"shrank|shrunk|up|down|higher|lower)\s+(?:[\w’'-]+\s+){0,3}by|adds?|added|adding|"
                            r"rose|fell|grew|dropped|climbed|declined|jumped|slipped|"
                            r"increased|"
                            r"decreased|(?<!made )(?<!make )(?<!makes )(?<!making )up|down|"
                            r"rise of|fall of|increase of|cut of|drop of)\s*(?:an average of\s*)?"
                            r"(?:about|around|nearly|almost|just|more than|less than|over|under)?\s*[£$€]?$", re.I)
#: A percentage followed by one of these is a change: "a 10% increase".
_CHANGE_NOUNS = {"rise", "increase", "cut", "fall", "drop", "reduction", "decline", "gain", "jump", "hike", "decrease",
                 "uplift", "raise"}
#: Words ending in "s" that are not plural nouns, after a count's first noun ("3,000 homes across").
_NOT_HEAD = {"across", "towards", "whereas", "perhaps", "plus", "thus", "its", "this", "is", "was", "has", "does",
             "as", "us", "always", "afterwards", "besides", "unless"}
_SKIP_NOUN = {"of", "the", "a", "an", "new", "more", "extra", "additional", "other", "full-time", "part-time",
              "local", "further", "fewer", "less", "hourly", "permanent", "temporary", "seasonal", "skilled",
              "existing", "current", "former", "registered", "licensed", "frontline", "front-line", "senior",
              "junior", "salaried", "contract", "agency", "than", "per", "each", "every", "or", "so", "its", "their"}
_STOP_NOUN = {"and", "to", "in", "on", "at", "for", "was", "were", "is", "are", "by", "from", "with", "as",
              "after", "before", "since", "have", "has", "had", "will", "would", "could", "said", "says",
              "that", "this", "who", "which", "when", "while", "than", "into", "over", "under", "up", "down",
              "out", "last", "but", "it", "he", "she", "they", "we", "be", "been", "not"}


#: Units of measure news copy writes out, by the words after a number: (dimension, size in the
#: dimension's base unit: km² for area, km for length, tonnes for mass, days for time). "30 sq km"
#: and "3,000 hectares" are one area, "13 weeks" and "three months" one time.
MEASURES = {
    ("sq", "km"): ("area", 1.0), ("square", "kilometre"): ("area", 1.0), ("square", "kilometer"): ("area", 1.0),
    ("square", "km"): ("area", 1.0), ("sq", "mile"): ("area", 2.589988), ("square", "mile"): ("area", 2.589988),
    ("hectare",): ("area", 0.01), ("ha",): ("area", 0.01), ("acre",): ("area", 0.004046856),
    ("km",): ("length", 1.0), ("kilometre",): ("length", 1.0), ("kilometer",): ("length", 1.0),
    ("mile",): ("length", 1.609344), ("metre",): ("length", 0.001), ("meter",): ("length", 0.001),
    ("tonne",): ("mass", 1.0), ("kg",): ("mass", 0.001), ("kilogram",): ("mass", 0.001),
    ("day",): ("time", 1.0), ("week",): ("time", 7.0), ("month",): ("time", 30.44), ("year",): ("time", 365.25),
}


def _measure(words: list[str]) -> tuple[str, float, int] | None:
    """(dimension, size, words used) of a unit of measure at the start of ``words``, if any."""
    for length in (2, 1):
        key = tuple(_singular(w) for w in words[:length])
        if len(key) == length and key in MEASURES:
            return (*MEASURES[key], length)
    return None


#: Nouns that count the same thing in news copy: a count of one compares with a count of another.
NOUN_GROUPS = {
    "job": ("job", "redundancy", "post", "role", "position", "worker", "staff", "employee", "workforce",
            "staffer", "lay-off", "layoff"),
    "home": ("home", "house", "household", "property", "dwelling", "homes"),
    "person": ("person", "people", "resident", "individual", "adult", "citizen"),
    "patient": ("patient", "wait", "attendance"),
    "vote": ("vote", "ballot"),
    "death": ("death", "fatality", "dead", "killed"),
    "year": ("year", "yr"),
    "hour": ("hour", "hr"),
    "trip": ("trip", "journey", "ride"),
}
_NOUN_GROUP = {noun: name for name, nouns in NOUN_GROUPS.items() for noun in nouns}


@dataclass(frozen=True)
class Quantity:
    """A number a sentence states: the true value lies in ``low``–``high``.

    ``unit`` is a currency ("GBP", or "GBP/year" for a rate), ``%``, ``count``, or a dimension
    of :data:`MEASURES` (``area`` in km², ``length`` in km, ``mass`` in tonnes, ``time`` in days), with
    " change" after it for a rise or fall ("up by 4%"); ``noun`` is
    the word a count counts ("job"), singular and lower-case, when there is one; ``part`` marks
    a figure given as a part of a larger one ("in Stonebridge alone").
    """

    value: float
    low: float
    high: float
    unit: str
    noun: str | None
    surface: str
    part: bool = False


@dataclass(frozen=True)
class When:
    """A date, weekday, month, quarter, year or numbered occasion ("day 13") a sentence names."""

    kind: str
    value: tuple
    surface: str
    #: A bound, not the day of the event: "restored by Monday", "closed until Friday".
    bound: bool = False


@dataclass(frozen=True)
class Facts:
    """What :func:`read` found in a sentence."""

    quantities: tuple[Quantity, ...] = ()
    whens: tuple[When, ...] = ()
    names: frozenset[str] = field(default_factory=frozenset)
    #: The words that bring in another event ("last year's", "neighbouring"), if any.
    other_event: str | None = None
    #: Stems of every capitalised word, the speaker's name included: a name the other sentence
    #: is about may stand here only as who speaks.
    mentioned: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found: ``kind`` is conflict, agree or different-event; ``of`` says
    whether a conflict is one of counts of one noun ("380 jobs" / "160 jobs"), other figures, years,
    or other dates."""

    kind: str
    reason: str
    of: str = "figures"


# ---------------------------------------------------------------------------- numbers
def _number(text: str) -> float | None:
    digits = text.replace(",", "")
    if len(digits.split(".")[0]) > MAX_DIGITS:
        return None
    try:
        value = float(digits)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rounding(surface: str, scale: float = 1.0) -> float:
    """Half the step of the last digit written, at most a twentieth of the value: "18,400"
    stands for 18,350-18,450, "£2m" for £1.9m-£2.1m, "1,000" for 950-1,050."""
    digits = surface.replace(",", "")
    value = _number(digits) or 0.0
    if "." in digits:
        step = 0.5 * 10 ** -len(digits.split(".")[1])
    else:
        zeros = len(digits) - len(digits.rstrip("0")) if value else 0
        step = 0.5 * 10 ** min(zeros, MAX_DIGITS)
    if scale == 1.0 and step <= 0.5:
        return step
    return min(step * scale, max(0.05 * value * scale, 0.5))


_A_SCALE = re.compile(r"\b(a|one) (thousand|million|billion)\b(?! of)", re.I)
_DOLLAR_PREFIX = re.compile(r"\b(?:US|U\.S\.)\$")
_DIGIT_SCALE = re.compile(r"(\d)\s?(thousand|million|billion|trillion)\b", re.I)
#: "389 thousand" stays "389thousand": a bare "k" after a number is read as a unit, not a scale.
_SHORT_SCALE = {"thousand": "thousand", "million": "mn", "billion": "bn", "trillion": "tn"}


_FRACTION_SCALE = re.compile(r"\b(a|one|three|two) (half|quarter|quarters|third|thirds) of an? "
                             r"(thousand|million|billion)\b|\bhalf an? (thousand|million|billion)\b", re.I)
_FRACTION_OF = {"half": 0.5, "quarter": 0.25, "quarters": 0.25, "third": 1 / 3, "thirds": 1 / 3}


def _fraction_scale(match: re.Match) -> str:
    """"a quarter of a million" -> "0.25mn"; "half a million" -> "0.5mn"."""
    if match.group(4):
        return f"0.5{_SHORT_SCALE[match.group(4).lower()]}"
    count = {"a": 1, "one": 1, "two": 2, "three": 3}[match.group(1).lower()]
    value = count * _FRACTION_OF[match.group(2).lower()]
    return f"{value:.4g}{_SHORT_SCALE[match.group(3).lower()]}"


def _words_to_digits(text: str) -> str:
    """Number words as digits ("one hundred and twenty" -> "120"), by ``text2num``; a digit
    with a scale word ("4.2 million") is kept as one number ("4.2mn")."""
    text = _DIGIT_SCALE.sub(lambda m: m.group(1) + _SHORT_SCALE[m.group(2).lower()], text)
    text = _DOLLAR_PREFIX.sub("$", text)  # "US$3.96 billion"
    text = _FRACTION_SCALE.sub(_fraction_scale, text)
    text = _A_SCALE.sub(lambda m: "1" + _SHORT_SCALE[m.group(2).lower()], text)  # "a million" -> "1mn"
    try:
        from text_to_num import alpha2digit

        return alpha2digit(text, "en", threshold=0)
    except Exception:  # a converter must never stop a check
        logger.debug("number words not read in %r", text[:80], exc_info=True)
        return text


def _singular(word: str) -> str:
    word = word.lower().strip("'’-")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _noun(words: list[str]) -> tuple[str | None, str | None]:
    """The word a count counts, and its group's name: "450 redundancies" -> (redundancies, job)."""
    for i, word in enumerate(words[:3]):
        low = word.lower()
        if low in _SKIP_NOUN or low.endswith(("'s", "’s")):
            continue  # "450 of the firm's staff" counts staff
        if low in _STOP_NOUN:
            return None, None
        # A noun before a plural noun names what kind: "31 league games", "nine league goals".
        head = words[i + 1].lower() if i + 1 < len(words) else ""
        if (not low.endswith("s") and head.endswith("s") and head.isalpha() and head.islower()
                and head not in _STOP_NOUN and head not in _NOT_HEAD):
            word, low = words[i + 1], head
        noun = _singular(low)
        return word, _NOUN_GROUP.get(noun, noun)
    return None, None


def _per(words: list[str]) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word.lower() in {"a", "an", "per", "each", "every"}:
            period = _singular(words[i + 1])
            if period in PER or period == "hour":
                return period
    return None


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def quantities(text: str) -> list[Quantity]:
    """Money, percentages, fractions and counts in ``text``, each as an interval; never raises."""
    if not text or len(text) > MAX_CHARS:
        return []
    found: list[Quantity] = []
    for match in _FRACTION.finditer(text):
        pct = FRACTIONS[match.group(1).lower()]
        noun = _noun([match.group("noun")])[1] if match.group("noun") else None
        before = text[max(0, match.start() - 40):match.start()]
        # "fell by almost a quarter" is a fall, compared with "down 41%", not with a share
        unit = "% before" if _OTHER_LEVEL_BEFORE.search(before) else "% change" if _CHANGE_BEFORE.search(before) \
            else "%"
        surface = match.group(0) if noun else match.group(0)[:match.end(1) - match.start()]
        found.append(Quantity(pct, pct - 2.5, pct + 2.5, unit, noun, surface.strip()))
    for match in _SEVERAL.finditer(text):
        low, high = SEVERAL[match.group("v").lower()]
        scale = _SEVERAL_SCALES[match.group("scale").lower()]
        found.append(_rough(match, low * scale, high * scale))
    text = _SEVERAL.sub(_blank, text)
    for match in _VAGUE.finditer(text):
        found.append(_rough(match, *VAGUE[match.group("v").lower()]))
    text = _VAGUE.sub(_blank, text)
    converted = _words_to_digits(text)
    original = _Surfaces(text, converted)
    for pattern in (_CLOCK, _SCORE, _DATE, _ID):
        converted = pattern.sub(_blank, converted)
    for match in _ONE_IN.finditer(converted):
        a, b = _number(match.group("a")), _number(match.group("b"))
        if a is not None and b:
            pct = 100 * a / b
            found.append(original.restore(Quantity(pct, pct - 1, pct + 1, "%", None, match.group(0))))
    converted = _ONE_IN.sub(_blank, converted)
    done = 0
    for match in _NUMBER.finditer(converted):
        if match.start() < done:
            continue  # the top of a range already read
        read_to, quantity = _quantity(match, converted)
        done = read_to
        if quantity is not None:
            found.append(original.restore(quantity))
    return found


def _rough(match: re.Match, low: float, high: float) -> Quantity:
    """A rough count or sum ("hundreds of knives", "several million pounds") from ``low`` to ``high``,
    of the noun or currency in the words after it."""
    word, noun = _noun(match.group("after").split())
    unit = "count"
    if word and word.lower() in CURRENCIES:
        unit, word, noun = CURRENCIES[word.lower()], None, None
    head = match.group(0)[:match.start("after") - match.start()]
    surface = match.group(0)[:match.group(0).index(word, len(head)) + len(word)] if word else head
    return Quantity((low + high) / 2, low, high, unit, noun, surface.strip())


class _Surfaces:
    """Maps a stretch of the text with number words as digits back to the words as written."""

    def __init__(self, text: str, converted: str) -> None:
        self.text, self.converted = text, converted
        self.opcodes = None
        if text != converted:
            from difflib import SequenceMatcher

            self.opcodes = SequenceMatcher(None, converted, text, autojunk=False).get_opcodes()

    def _position(self, offset: int, end: bool) -> int:
        for _, c1, c2, t1, t2 in self.opcodes:
            if c1 <= offset < c2 or (end and offset == c2):
                return t1 + min(offset - c1, t2 - t1) if offset != c2 else t2
        return len(self.text)

    def restore(self, quantity: Quantity) -> Quantity:
        if self.opcodes is None:
            return quantity
        at = self.converted.find(quantity.surface)
        if at < 0:
            return quantity
        start = self._position(at, end=False)
        stop = self._position(at + len(quantity.surface), end=True)
        surface = self.text[start:stop].strip()
        return replace(quantity, surface=surface) if surface else quantity


def _quantity(match: re.Match, text: str) -> tuple[int, Quantity | None]:
    """Where the quantity that starts at ``match`` ends, and the quantity (None if it is not one)."""
    num, end = match.group("num"), match.end()
    if text[end:end + 2].lower() in {"st", "nd", "rd", "th"}:
        return end, None  # an ordinal: the 58th minute
    value = _number(num)
    if value is None:
        return end, None
    scale_word = (match.group("scale") or "").lower()
    currency = CURRENCIES.get(match.group("cur") or "")
    if scale_word in {"m", "k"} and not currency:
        return end, None  # "82 m" in metres, not a count
    scale = SCALES.get(scale_word, 1.0)
    top = None
    before = text[max(0, match.start() - 40):match.start()]
    other_level = _OTHER_LEVEL_BEFORE.search(before) or _EXPECTED_BEFORE.search(
        re.split(r"[;:]|, (?:but|while|and)\b", text[max(0, match.start() - 80):match.start()])[-1])
    change = _CHANGE_BEFORE.search(before)  # "up by £1.50 to £21.50": a change, then a level
    tail = None if change or other_level else _RANGE_TAIL.match(text[end:])
    if tail and _number(tail.group("num")) is not None:
        top = (tail.group("num"), SCALES.get((tail.group("scale") or scale_word).lower(), 1.0))
        end += tail.end()
    pct = _PCT_TAIL.match(text[end:])
    if pct:
        end += pct.end()
    after = [m.group(0) for m in _WORD.finditer(re.split(r"[,;:()]", text[end:end + 60], maxsplit=1)[0])][:6]
    if not currency and after and after[0].lower() in CURRENCIES and after[0].lower() != "p":
        currency, after = CURRENCIES[after[0].lower()], after[1:]
    if not scale_word and after and after[0].lower() in SCALES and after[0].lower() not in {"m", "k"}:
        scale, after = SCALES[after[0].lower()], after[1:]
        if top is not None:
            top = (top[0], scale)
        if not currency and after and after[0].lower() in CURRENCIES:
            currency, after = CURRENCIES[after[0].lower()], after[1:]
    if not currency and not pct and scale == 1.0 and 1900 <= value <= 2099 and num.isdigit():
        return end, None  # a year: read as a date
    if before.lower().rstrip().endswith("between") and top is None:
        return end, None
    step = _rounding(num, scale)
    value *= scale
    low, high = value - step, value + step
    if top is not None and _number(top[0]) * top[1] > value:
        high = _number(top[0]) * top[1] + _rounding(top[0], top[1])
    hedge = _HEDGE_BEFORE.search(before)
    if hedge:
        lo_f, hi_f = HEDGES[hedge.group(1).lower()]
        low, high = min(low, value * lo_f), max(high, value * hi_f)
    measure = None if currency or pct else _measure(after)
    # A rate: "£1.65 a week", "260 lorry loads a day", as a yearly figure.
    period = _per(after) if currency or not (pct or measure) else None
    if period in PER:
        value, low, high = value * PER[period], low * PER[period], high * PER[period]
    if currency == "GBP/100":
        value, low, high, currency = value / 100, low / 100, high / 100, "GBP"
    if not currency and not pct and _MAGNITUDE_BEFORE.search(before):
        unit, word, noun = "magnitude", None, None
    elif measure:
        dimension, size, used = measure
        value, low, high = value * size, low * size, high * size
        unit, word, noun = dimension, after[used - 1], None
    else:
        # An hourly rate ("£1.20 an hour") is kept apart: hours worked a year are not known.
        unit = (currency or ("%" if pct else "count")) + ("/hour" if period == "hour" else "/year" if period else "")
        word, noun = (None, None) if currency else _noun(after)
    start = match.start()
    if hedge:
        start -= len(before) - hedge.start()
    surface = text[start:end].strip()
    if word and not pct:
        surface = text[start:text.index(word, end) + len(word)].strip()
    context = text[max(0, match.start() - 40):min(len(text), end + 25)]
    if change or (pct and after and after[0].lower() in _CHANGE_NOUNS):
        unit += " change"  # a rise or fall compares with another rise or fall, not with a level
    elif other_level:
        unit += " before"  # "up from £255": what it was, not what it is
    elif unit == "time" and _RECORD_BEFORE.search(text[max(0, match.start() - 80):match.start()]):
        unit += " before"  # "the slowest rise for two years": a span to compare with, not the event's
    elif unit == "count" and _HELD_BEFORE.search(before):
        unit += " held"
    # The whole a part is taken from ("14,000 of the district's 22,000 lights") is no level of its own.
    total = bool(_TOTAL_BEFORE.search(before))
    return end, Quantity(value, low, high, unit, noun, surface, part=bool(PART_MARKERS.search(context)) or total)


# ---------------------------------------------------------------------------- dates
@lru_cache(maxsize=1024)
def _parse_date(surface: str) -> tuple[int, int] | None:
    """(month, day) of a day-and-month expression, by ``dateparser``."""
    try:
        import dateparser

        parsed = dateparser.parse(surface, languages=["en"], settings={"REQUIRE_PARTS": ["day", "month"]})
    except Exception:
        logger.debug("date not read: %r", surface, exc_info=True)
        return None
    return None if parsed is None else (parsed.month, parsed.day)


#: A reporting verb right before a date: "the company said on Thursday" dates the saying, not the event.
_SAID_ON = re.compile(r"\b(?:said|says|announced|confirmed|reported|stated|added|warned|wrote|"
                      r"told \w+|in a statement)\s+(?:on|late on|early on|in)\s+"
                      r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?$", re.I)


#: A date as a bound: "by Monday evening", "until 3 March", "no later than June".
_BOUND_BEFORE = re.compile(r"\b(?:by|until|till|before|no later than)\s+(?:at (?:the )?(?:least|earliest)\s+)?"
                           r"(?:the\s+)?(?:end of\s+|start of\s+)?"
                           r"(?:early|late|mid-?)?\s*(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?$",
                           re.I)


def _bound(text: str, start: int) -> bool:
    return bool(_BOUND_BEFORE.search(text[max(0, start - 30):start]))


def _said_on(text: str, start: int) -> bool:
    return bool(_SAID_ON.search(text[max(0, start - 40):start]))


#: A time given as a point of comparison, not as when the event happened: "the most since the third
#: quarter of 2019", "18% fewer than in the same quarter of 2025".
_REFERENCE_BEFORE = re.compile(r"\b(?:since|than|compared (?:with|to))(?:\s+(?:the|a|an|in|of|same|early|late|mid|"
                               r"start|end|first|second|third|fourth|last|quarter|half|period|month|year|at))*\s*$"
                               # "since taking office in 2024", "compared with 268 in 2021"
                               r"|\b(?:since\s+\w+ing|compared (?:with|to))\s+[^,.;:]{0,30}?\s+in\s*$",
                               re.I)


#: A bare year after "on" is a baseline: "up by a quarter on 2024", "an increase of 2.8 billion on 2026".
_ON_YEAR = re.compile(r"\bon\s+$", re.I)


def _reference(text: str, start: int) -> bool:
    return bool(_REFERENCE_BEFORE.search(text[max(0, start - 40):start]))


def whens(text: str) -> list[When]:
    """Dates, weekdays, months, quarters, years and numbered occasions in ``text``, except the
    day something was said ("…, the company said on Thursday"); never raises."""
    if not text or len(text) > MAX_CHARS:
        return []
    found: list[When] = []
    for match in _DATE.finditer(text):
        if _said_on(text, match.start()) or _reference(text, match.start()):
            continue
        day = match.group("d1") or match.group("d2")
        month_word = (match.group("m1") or match.group("m2")).lower()
        month = MONTHS.index(month_word) + 1 if month_word in MONTHS else _MONTH_ABBR.get(month_word[:4])
        month = month or _MONTH_ABBR.get(month_word[:3])
        parsed = _parse_date(f"{int(day)} {MONTHS[month - 1]}") if month else None
        if parsed is None:
            continue
        year = match.group("y1") or match.group("y2")
        surface = match.group(0).strip()
        if surface.endswith(".") and month_word in MONTHS:  # a full stop, not "Sept."
            surface = surface[:-1]
        if year:
            try:
                weekday = WEEKDAYS[datetime.date(int(year), parsed[0], parsed[1]).weekday()]
                surface = f"{surface} (a {weekday.capitalize()})"
            except ValueError:
                pass
        found.append(When("date", (int(year) if year else None, parsed[0], parsed[1]), surface,
                          _bound(text, match.start())))
    for match in _WEEKDAY.finditer(text):
        if _said_on(text, match.start()):
            continue
        found.append(When("weekday", (match.group(1).lower(),), match.group(1), _bound(text, match.start())))
    dated_months = {w.value[1] for w in found if w.kind == "date"}
    for match in _MONTH.finditer(text):
        if _said_on(text, match.start("m")) or _reference(text, match.start("m")):
            continue
        month = MONTHS.index(match.group("m").lower()) + 1
        if month not in dated_months:
            found.append(When("month", (month,), match.group("m"), _bound(text, match.start("m"))))
    for match in _QUARTER.finditer(text):
        if _reference(text, match.start()):
            continue
        q = (match.group("q") or match.group("q2")).lower()
        found.append(When("quarter", (QUARTERS[q],), match.group(0)))
    for match in _YEAR.finditer(_DATE.sub(lambda m: m.group(0) if not (m.group("y1") or m.group("y2"))
                                          else " " * len(m.group(0)), text)):
        if _reference(text, match.start()) or _ON_YEAR.search(text[max(0, match.start() - 10):match.start()]):
            continue
        found.append(When("year", (int(match.group("y")),), match.group("y")))
    for match in _ID.finditer(text):
        word = match.group("word").lower().rstrip(".")
        found.append(When(f"id:{word}", (match.group("n").lower(),), match.group(0)))
    for match in _RELATIVE.finditer(text):
        found.append(When("relative", (match.group(0).lower(),), match.group(0)))
    return found


# ---------------------------------------------------------------------------- names
def _stem(word: str) -> str:
    """A name's stem: "Russia", "Russian" and "Russians" share their first five letters."""
    return word.lower().removesuffix("'s").removesuffix("’s")[:5]



def known_names(texts: Iterable[str]) -> frozenset[str]:
    """Stems of the words written with a capital inside a sentence somewhere in ``texts``:
    the names a document uses, so that a name that starts a sentence is known as one."""
    out = set()
    for text in texts:
        if len(text) > MAX_CHARS:
            continue
        for match in _NAME.finditer(text):
            if match.start() > 0 and text[max(0, match.start() - 2):match.start()].strip() not in {".", '"', "“", ":"}:
                word = match.group(0)
                if word.lower() not in _NOT_NAMES:
                    out.add(_stem(word))
    return frozenset(out)


def names(text: str, known: frozenset[str] = frozenset()) -> frozenset[str]:
    """Stems of the names of places, people and organisations in ``text``.

    A capitalised word inside a sentence is a name unless it is a common function word, a
    weekday or a month; a capitalised word that starts a sentence is a name when the next
    word is capitalised too ("Martin Hale"), or when it is in ``known``.
    """
    if not text or len(text) > MAX_CHARS:
        return frozenset()
    out = set()
    for match in _NAME.finditer(text):
        word = match.group(0)
        stem = _stem(word)
        if word.lower().removesuffix("'s").removesuffix("’s") in _NOT_NAMES or len(word) < 3:
            continue
        initial = match.start() == 0 or text[max(0, match.start() - 2):match.start()].strip() in {".", '"', "“", ":"}
        if initial:
            rest = text[match.end():match.end() + 2]
            if stem not in known and not (len(rest) > 1 and rest[0] == " " and rest[1].isupper()):
                continue
        out.add(stem)
    return frozenset(out)


#: A speaker who speaks for an organisation: "a spokesperson for Cuppa Co", "the chief executive of
#: Harwell Brewery". What they say is about the organisation, so its name stays.
_SPEAKS_FOR = re.compile(r"^(?:an?|the|its|their)?\s*(?:[\w’'-]+\s+){0,2}?(?:spokes(?:man|woman|person)|"
                         r"representative|official|chief executive|managing director|director|chair(?:man|woman)?|"
                         r"head|owner|boss|manager)s?\s+(?:for|of|at)\s+(?P<org>.+)$", re.I)


#: A speaker who speaks of its own affairs: "Keystone Pharma said its sales rose", "the unions
#: said that their members ...". The sentence is about the speaker, so its name stays.
_OWN = re.compile(r"\s*(?:said|says|reported|announced|confirmed|stated|added|told [\w ]{1,30}?)\s+"
                  r"(?:[\w’'-]+,?\s+){0,3}?(?:that\s+)?(?:its|their)\s+[a-z]")


def about(text: str, speaker: str | None) -> str:
    """``text`` without its reported speaker's name ("Ben Wallace said ..."): who speaks is not
    what the sentence is about. The organisation a spokesperson speaks for stays, and so does a
    speaker who speaks of its own affairs ("Keystone Pharma said its sales rose")."""
    if not speaker:
        return text
    at = text.find(speaker)
    if at >= 0 and _OWN.match(text, at + len(speaker)):
        return text
    match = _SPEAKS_FOR.match(speaker_name(speaker))
    return text.replace(speaker, f" {match.group('org')} " if match else " ")


#: A level given as the point of comparison ("81%, up from 76% the year before", "compared with
#: £310,000 the previous year"): the other period it names is the baseline, not another event.
_BASELINE = re.compile(r"\b(?:compared (?:with|to)|up from|down from|against)\s+[^,;.]{0,12}\d(?:,(?=\d)|[^,;]){0,20}$",
                       re.I)


def read(text: str, *, speaker: str | None = None, known: frozenset[str] = frozenset()) -> Facts:
    """The quantities, dates and names a sentence states. A reported speaker ("Ben Wallace
    said ...") is who speaks, not what the sentence is about, so its names are left out
    (:func:`about`)."""
    about_text = about(text, speaker)
    other = next((m for m in OTHER_EVENT.finditer(text) if not _BASELINE.search(text, 0, m.start())), None) \
        if len(text) <= MAX_CHARS else None
    return Facts(tuple(quantities(text)), tuple(whens(text)), names(about_text, known),
                 other.group(0) if other else None, _capitalised(text))


# ---------------------------------------------------------------------------- comparing
def _overlap(a: Quantity, b: Quantity) -> bool:
    return a.low <= b.high and b.low <= a.high


def _same_measure(a: Quantity, b: Quantity) -> bool:
    """Money with money in one currency, percentages with percentages, counts of one noun."""
    if a.unit != b.unit:
        return False
    if a.unit.startswith("count"):
        return a.noun is not None and a.noun == b.noun
    return a.noun is None or b.noun is None or a.noun == b.noun


def _weekday_of(date: When) -> str | None:
    year, month, day = date.value
    if not year:
        return None
    try:
        return WEEKDAYS[datetime.date(year, month, day).weekday()]
    except ValueError:
        return None


def _months(whens: Iterable[When]) -> set[int]:
    return {w.value[0] for w in whens if w.kind == "month"} | {w.value[1] for w in whens if w.kind == "date"}


def _date_conflicts(a: Iterable[When], b: Iterable[When]) -> list[tuple[When, When]]:
    """Pairs of dates that can't name the same day, month, quarter, year or occasion; none
    where the two sentences also share a date of that kind."""
    a = [w for w in a if w.kind != "relative"]
    b = [w for w in b if w.kind != "relative"]
    months_a, months_b = _months(a), _months(b)
    shared = {(w.kind, w.value) for w in a} & {(w.kind, w.value) for w in b}
    out = []
    for x in a:
        for y in b:
            if x.bound != y.bound:
                continue  # "restored by Monday" / "lost on Sunday": a bound and a day agree
            kinds = {x.kind, y.kind}
            if x.kind == y.kind:
                if (x.kind, x.value) in shared or (y.kind, y.value) in shared or x.value == y.value:
                    continue
                if x.kind == "date" and (x.value[0] is None or y.value[0] is None) and x.value[1:] == y.value[1:]:
                    continue
                out.append((x, y))
            elif kinds == {"date", "month"}:
                date, month = (x, y) if x.kind == "date" else (y, x)
                # "from 1 January, reviewed in June" / "reviewed in June": June is named on both sides
                date_side, month_side = (months_a, months_b) if x.kind == "date" else (months_b, months_a)
                if date.value[1] != month.value[0] and month.value[0] not in date_side \
                        and date.value[1] not in month_side:
                    out.append((x, y))
            elif kinds == {"date", "weekday"}:
                date, weekday = (x, y) if x.kind == "date" else (y, x)
                actual = _weekday_of(date)
                if actual and actual != weekday.value[0] and ("weekday", (actual,)) not in shared:
                    out.append((x, y))
    return out


def _plain(surface: str) -> str:
    return " ".join(surface.lower().split())


def _capitalised(text: str) -> frozenset[str]:
    """Stems of every capitalised word of ``text``, its speaker's name included."""
    return frozenset(_stem(m.group(0)) for m in _NAME.finditer(text[:MAX_CHARS]))


def _show_names(text: str, stems: frozenset[str]) -> str:
    words: list[str] = []
    for match in _NAME.finditer(text):
        word = match.group(0).removesuffix("'s").removesuffix("’s")
        if _stem(word) in stems and word not in words:
            words.append(word)
    return " ".join(words[:3])


def _days_apart(first: str | None, second: str | None) -> int | None:
    """Days between two article dates (ISO, "2024-03-05"), or None when either is unknown."""
    if not first or not second:
        return None
    try:
        a = datetime.date.fromisoformat(str(first)[:10])
        b = datetime.date.fromisoformat(str(second)[:10])
    except ValueError:
        return None
    return abs((a - b).days)


#: Counts of time that :data:`MEASURES` leaves as counts ("12 hours", "eight seconds") are
#: durations, compared as other figures are.
_DURATIONS = {"second", "minute", "hour", "year", "decade"}


#: A sentence that opens in another year, "In 2019 the ministry ordered ...": background, about
#: another event than a sentence that names no year.
_BACKGROUND = re.compile(r"^\s*In (?:(?:early|late|mid-?)\s*)?(?:(?:" + _MONTH_NAMES + r")\s+)?(?:19|20)\d\d\b", re.I)


def compare(claim: str, evidence: str, claim_facts: Facts | None = None,
            evidence_facts: Facts | None = None, *, claim_date: str | None = None,
            evidence_date: str | None = None, claim_context: frozenset[str] | None = None,
            evidence_context: frozenset[str] | None = None) -> Comparison | None:
    """Whether two sentences are about different events, or state conflicting or agreeing values.

    The rule, in order:

    0. One of them brings in another event ("last year's race", "neighbouring Croxby", "in a
       separate case") and the other does not: different events. An earlier period given as
       the baseline of a figure ("up from 76% the year before") brings in no other event.
    1. Each names something the other does not ("Ashby" / "Brindle"), one of those names
       is not used by the other side's documents (``claim_context``, ``evidence_context``:
       the names their documents use, when known): different events. A name the other
       sentence holds, if only as its speaker, is not one of those ("Quillon said Sonderwell
       was warned" / "Sonderwell said Quillon never warned it").
    2. One of them opens in a year ("In 2019 the ministry ordered ...") that the other does
       not name, and their figures don't agree: different events.
    3. Values of one measure that can't both be true ("about 120 jobs" / "450 jobs"), and
       different dates or periods as well: different events ("58% in October" / "69% in
       September"); with no date between them: a conflict.
    4. Numbered occasions or reporting quarters that differ ("day 13" / "day 123", "in the
       first quarter" / "in the second quarter"): different events. Dates that
       can't name the same day or period ("Thursday" / "Friday 13 March 2026"): a conflict. A
       date given as a bound ("restored by Monday", "until 3 March") is compared only with
       another bound, not with the day of an event ("cut on Sunday").
    5. Values of one measure that agree, restated in other words ("a quarter of staff" / "25% of
       employees"): agree. The same figure in the same words ("14 schools" / "14 schools") is
       shared ground, and says nothing.

    With the dates of the articles the sentences come from (``claim_date``, ``evidence_date``),
    articles more than :data:`EVENT_DAYS` apart report different events when their sentences
    differ in figures or days, or when either places itself in time ("on Tuesday", "last
    quarter") and they don't name the same full date.
    """
    a = claim_facts or read(claim)
    b = evidence_facts or read(evidence)
    background = next((match.group(0).strip() for text, other in ((claim, b), (evidence, a))
                       if (match := _BACKGROUND.match(text))
                       and not any(w.kind == "year" or (w.kind == "date" and w.value[0]) for w in other.whens)), None)
    if bool(a.other_event) != bool(b.other_event):
        return Comparison("different-event", f"another event: '{a.other_event or b.other_event}'")
    # A name the other sentence holds as its speaker is shared ground: "Quillon said Sonderwell
    # had been warned" / "Sonderwell said it had no warning from Quillon".
    only_a = a.names - b.names - b.mentioned
    only_b = b.names - a.names - a.mentioned
    # With the names each side's documents use, a name the other side's documents also use is
    # shared ground ("the Kremlin" in one, "Russian" in the other, both in one article).
    foreign = (claim_context is None or evidence_context is None
               or bool(only_a - evidence_context) or bool(only_b - claim_context))
    if only_a and only_b and foreign:
        return Comparison("different-event", f"{_show_names(claim, only_a)} vs {_show_names(evidence, only_b)}")
    conflicts, agreements = [], []
    for x in a.quantities:
        for y in b.quantities:
            if _same_measure(x, y):
                (agreements if _overlap(x, y) else conflicts).append((x, y))
    agreeing = {id(q) for pair in agreements for q in pair}
    conflicts = [(x, y) for x, y in conflicts
                 if not (x.part or y.part) and id(x) not in agreeing and id(y) not in agreeing]
    if background and (conflicts or not agreements):
        return Comparison("different-event", f"another time: '{background}'")
    dates = _date_conflicts(a.whens, b.whens)
    if conflicts and not dates and a.whens and b.whens:
        # Other figures at times that can't be compared ("on Thursday" / "in 2024"): other times.
        if not {(w.kind, w.value) for w in a.whens} & {(w.kind, w.value) for w in b.whens}:
            x, y = a.whens[0], b.whens[0]
            dates = [(x, y)] if {x.kind, y.kind} != {"relative"} else []
    # Numbered occasions and reporting periods: "day 13" / "day 123", "first quarter" / "second".
    occasions = [(x, y) for x, y in dates if x.kind.startswith("id:") or x.kind == y.kind == "quarter"]
    if occasions:
        x, y = occasions[0]
        return Comparison("different-event", f"{x.surface} vs {y.surface}")
    if conflicts and dates:
        x, y = dates[0]
        return Comparison("different-event", f"{x.surface} vs {y.surface}")
    apart = _days_apart(claim_date, evidence_date)
    anchored = bool(a.whens or b.whens) and not {w.value for w in a.whens if w.kind == "date" and w.value[0]} & {
        w.value for w in b.whens if w.kind == "date" and w.value[0]}
    if (conflicts or dates or anchored) and apart is not None and apart > EVENT_DAYS:
        return Comparison("different-event", f"reported {apart} days apart ({claim_date} vs {evidence_date})")
    if conflicts:
        x, y = conflicts[0]
        counts = x.noun is not None and x.unit == "count" and x.noun not in _DURATIONS
        return Comparison("conflict", f"{x.surface} vs {y.surface}", "counts" if counts else "figures")
    if dates:
        x, y = dates[0]
        # Years apart are compared as figures are: "founded in 2001" / "the 2026 prize".
        return Comparison("conflict", f"{x.surface} vs {y.surface}", "years" if "year" in {x.kind, y.kind} else "dates")
    # The same figure in the same words ("14 schools" / "14 schools") is shared ground, not a sign
    # that the two agree; a figure restated ("a quarter" / "25%") is.
    restated = [(x, y) for x, y in agreements if _plain(x.surface) != _plain(y.surface)]
    if restated:
        x, y = restated[0]
        return Comparison("agree", f"{x.surface} = {y.surface}")
    return None


# ---------------------------------------------------------------------------- opposites
#: Words of news copy that state opposite outcomes of one matter, as pairs of word groups
#: (regular expressions over lower-case words). A sentence with a word of one side and a
#: sentence with a word of the other, on one subject, state opposite outcomes.
OPPOSITES: tuple[tuple[str, str], ...] = (
    (r"rose|rises?|rising|risen|increased?|increases|increasing|grew|grow|grows|growing|grown|climbed?|climbs|"
     r"jumped|jumps|gained|gains|up|higher|raised?|raises|raising|hiked?|boosted",
     r"fell|falls?|falling|fallen|decreased?|decreases|decreasing|declined?|declines|declining|dropped|drops|"
     r"shrank|shrunk|shrinks|down|lower|lowered|cut|cuts|cutting|reduced?|reduces|slashed|slipped|plunged|slumped"),
    (r"rose|rises?|risen|increased?|raised?|hiked?|cut|cuts|reduced?|lowered|fell|falls?|fallen|changed?",
     r"unchanged|steady|held|holds?|holding|kept|frozen|freezes?|flat|stable"),
    (r"open|opens|opened|reopens?|reopened|reopening|resumed?|resumes|running|restored",
     r"closed?|closes|closing|shut|shuts|shutting|suspended|halted|cancell?ed|evacuated|suspends?|scrapped"),
    (r"profits?|profitable|surplus", r"loss|losses|deficit|loss-making"),
    (r"won|wins?|winning|victory|beat|beats|defeated", r"lost|loses?|losing|defeat|beaten"),
    (r"approved?|approves|granted|accepted|backed|endorsed|passed", r"rejected|rejects?|refused|refuses?|denied|"
     r"declined|blocked|vetoed|overturned|dismissed"),
    (r"continues?|continued|continuing|remains?|remained|remaining|stays?|stayed|staying|survives?|survived|kept|"
     r"retained|extended",
     r"ends?|ended|ending|scrapped|abolished|axed|stopped|stops|withdrawn|closes|closed|dropped|discontinued"),
    (r"convicted|guilty", r"acquitted|cleared|innocent"),
    (r"allowed|permitted|legal|lifted", r"banned|prohibited|illegal|outlawed|barred|imposed"),
    (r"alive|survived|safe|unharmed|rescued", r"dead|died|killed|drowned|missing"),
)
_OPPOSITE_SIDES = tuple((re.compile(rf"\b(?:{a})\b"), re.compile(rf"\b(?:{b})\b")) for a, b in OPPOSITES)
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b")


_NO_CHANGE = re.compile(r"\b(?:(?:will|would|did|does|do|has|have|had)(?: not|n't)(?: be)? changed?|no change)\b")


def opposites(claim: str, evidence: str) -> str | None:
    """Words of opposite outcomes, one in each sentence ("'rose' vs 'fell'"), or None. None when
    either sentence is negated ("did not rise" agrees with "fell") or holds both sides."""
    if len(claim) > MAX_CHARS or len(evidence) > MAX_CHARS:
        return None
    # "will not change" is "unchanged": the one negation that states an outcome
    said: dict[str, str] = {}

    def unchanged(match: re.Match) -> str:
        said["unchanged"] = match.group(0)
        return "unchanged"

    a, b = (_NO_CHANGE.sub(unchanged, text.lower()) for text in (claim, evidence))
    if _NEGATION.search(a) or _NEGATION.search(b):
        return None
    for first, second in _OPPOSITE_SIDES:
        for x, y in ((a, b), (b, a)):
            hit_x, hit_y = first.search(x), second.search(y)
            if hit_x and hit_y and not second.search(x) and not first.search(y):
                words = (hit_x.group(0), hit_y.group(0)) if x is a else (hit_y.group(0), hit_x.group(0))
                return " vs ".join(f"'{said.get(word, word)}'" for word in words)
    return None


#: The day a state ends: "closed until Friday", "shut until at least 3 March".
_UNTIL_DAY = re.compile(r"\b(?:until|till)\s+(?:at (?:the )?(?:least|earliest)\s+)?"
                        r"([A-Z][a-z]+day|\d{1,2} [A-Z][a-z]+)")


def state_ends(claim: str, evidence: str) -> str | None:
    """A state one sentence bounds ("closed until Friday") and the opposite state the other
    gives on that day ("will reopen on Friday 20 February"): the two agree. The words of both,
    or None."""
    if len(claim) > MAX_CHARS or len(evidence) > MAX_CHARS:
        return None
    turned = opposites(claim, evidence)
    if not turned:
        return None
    for x, y in ((claim, evidence), (evidence, claim)):
        until = _UNTIL_DAY.findall(x)
        ends = [w for w in whens(x) if w.bound and any(w.surface.startswith(day) for day in until)]
        for end in ends:
            day = next((w for w in whens(y) if not w.bound and _same_day(end, w)), None)
            if day:
                return f"until {end.surface} = on {day.surface}"
    return None


def _same_day(a: When, b: When) -> bool:
    """Whether two dates can name one day: equal, or a weekday and a full date that falls on it."""
    if a.kind == b.kind:
        return a.value == b.value or (a.kind == "date" and (a.value[0] is None or b.value[0] is None)
                                      and a.value[1:] == b.value[1:])
    if {a.kind, b.kind} == {"date", "weekday"}:
        date, weekday = (a, b) if a.kind == "date" else (b, a)
        return _weekday_of(date) == weekday.value[0]  # only a full date, with its year, names its weekday
    return False


#: A negated verb: "not", "never", "n't", "no plans to", "no intention of", "no longer", and the
#: words after it, where the first that is not :data:`_FILLER` is what is denied.
_NEGATED = re.compile(r"(?:\b(?:not|never|no(?= plans? to| intention| longer))|n't)(?P<words>(?:\s+[a-z’'-]+){1,4})")
_FILLER = frozenset("""
    the and any its his her our for are was has had all one yet get got can may did how who see say let put
    plans plan longer have been being will would could should able intention immediate current expected likely
    sign signs evidence reason more further such that this there were even also only ever much many
""".split())
#: A denial with a condition ("never open without a lifeguard") denies less than its verb.
_CONDITION = re.compile(r"\b(?:unless|without|except|until|till|once)\b")
#: Words that deny without a negation ("stopped reporting" agrees with "no longer reported").
_IMPLICIT_NEGATION = re.compile(r"\b(?:stopped|stops|ceased|ceases|refused|refuses|denied|denies|declined|failed|"
                                r"rarely|seldom|hardly|barely|lack|lacked|lacks|unable|absent)\b")


def denied(claim: str, evidence: str) -> str | None:
    """What one sentence denies and the other, not negated, asserts ("'no plans to close' vs
    'close'"), or None: the first word after the negation that is not :data:`_FILLER` shares
    its first five letters with a word of the other sentence."""
    if len(claim) > MAX_CHARS or len(evidence) > MAX_CHARS:
        return None
    a, b = claim.lower(), evidence.lower()
    neg_a, neg_b = bool(_NEGATION.search(a)), bool(_NEGATION.search(b))
    if neg_a == neg_b:
        return None
    negated, other = (a, b) if neg_a else (b, a)
    if _CONDITION.search(negated) or _IMPLICIT_NEGATION.search(other):
        return None  # "never open without a lifeguard"; "stopped reporting" / "no longer reported"
    other_words = re.findall(r"[a-z][a-z’'-]{2,}", other)
    for match in _NEGATED.finditer(negated):
        words = [w for w in match.group("words").split() if w not in _FILLER and len(w) > 2]
        if not words:
            continue
        verb = words[0]
        # the same word, or one that starts with it: "cut" / "cuts", "closed" / "closure"
        asserted = next((w for w in other_words if w[:5] == verb[:5] or (len(verb) < 5 and w.startswith(verb))), None)
        if asserted:
            shown = match.group(0)[:match.group(0).index(verb) + len(verb)]
            return f"'{shown}' vs '{asserted}'" if negated is a else f"'{asserted}' vs '{shown}'"
    return None


#: A rebuttal of what another party said, without restating it: "rejected the councillor's
#: account", "disputed the council's claim, saying ...".
_REBUTTAL = re.compile(
    r"\b(?:" + "|".join(sorted(DENIAL_VERBS, key=len, reverse=True)) + r")\s+(?:the\s+)?"
    r"(?P<owner>[A-Za-z][\w-]*)(?:'s|’s)\s+(?:claims?|account|explanation|version|figures|assessment|"
    r"characteri[sz]ation|interpretation|findings?|allegations?|accusations?|criticism)\b(?!\s+(?:that|of|about)\b)",
    re.I,
)


def rebuttal(text: str) -> tuple[str, str] | None:
    """The words with which a sentence rebuts another party's account ("'rejected the
    councillor's account'"), and the first five letters of that party ("counc"); or None."""
    if len(text) > MAX_CHARS:
        return None
    match = _REBUTTAL.search(text)
    return (f"'{match.group(0)}'", match.group("owner").lower()[:5]) if match else None


def rebuts(found: tuple[str, str] | None, speaker: str | None) -> bool:
    """Whether a :func:`rebuttal` is of what ``speaker`` said: the party it names is the speaker."""
    return bool(found and speaker
                and any(word.lower()[:5] == found[1] for word in re.findall(r"[A-Za-z][\w-]*", speaker)))


def rebutted(claim: str, claim_speaker: str | None, evidence: str, evidence_speaker: str | None) -> str | None:
    """The words with which one sentence rebuts what the other's speaker said ("'rejected the
    councillor's account'" against "Councillor Ann Lee said ..."), or None: the rebutted party,
    named before "'s", must be the other sentence's speaker."""
    for text, other_speaker in ((claim, evidence_speaker), (evidence, claim_speaker)):
        found = rebuttal(text)
        if rebuts(found, other_speaker):
            return found[0]
    return None
