"""Training pairs made from other training pairs.

* Symmetric contradictions: if A contradicts B, B contradicts A (entailment is not symmetric).
* Dispute frames: "There is no evidence that P", "S denied that P", "S dismissed reports that P"
  against P are contradictions a fact-checker cares about, although plain NLI data calls them
  neutral; "S confirmed that P" against P is support. Frames with an unrelated P' stay neutral,
  so the model learns the frame *and* the content, not the frame word alone.
* Number edits: where the hypothesis repeats a number from the premise of an entailment pair,
  changing that number makes a contradiction.

Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL

SPEAKERS = (
    "The minister", "Officials", "A government spokesman", "The ministry", "Police", "The company",
    "The defence secretary", "A senior official", "The White House", "Witnesses", "The agency",
    "Local authorities", "The president's office", "Diplomats", "Analysts", "The army", "Residents",
    "Ana Costa", "John Miller", "Mr Okafor", "Dr Lindqvist", "The Kremlin", "Nato", "The UN",
)

#: Frames whose speaker asserts not-P. ``{s}`` is the speaker, ``{p}`` the content clause.
DENIAL_FRAMES = (
    "There is no evidence that {p}.",
    "{s} denied that {p}.",
    "{s} dismissed reports that {p}.",
    "{s} said there was no sign that {p}.",
    "{s} said they had seen no evidence that {p}.",
    "{s} rejected claims that {p}.",
    "It is not true that {p}.",
    "{s} said it was false that {p}.",
    "{s} saw no signs that {p}.",
    "{s} insisted that it is not the case that {p}.",
)
#: Frames whose speaker asserts P.
CONFIRM_FRAMES = (
    "{s} confirmed that {p}.",
    "It is true that {p}.",
    "{s} said it was true that {p}.",
    "{s} acknowledged that {p}.",
    "There is clear evidence that {p}.",
)
#: Frames that neither assert nor deny P.
OPEN_FRAMES = (
    "{s} asked whether {p}.",
    "{s} wondered if {p}.",
    "It is unclear whether {p}.",
    "{s} said it was too early to know whether {p}.",
)

#: Frames kept out of training, used only to build the held-out dispute dev set.
HELD_OUT_DENIAL = (
    "{s} said they had found nothing to suggest that {p}.",
    "{s} flatly contradicted claims that {p}.",
    "{s} called reports that {p} untrue.",
    "{s} said they have no indication that {p}.",
)
HELD_OUT_CONFIRM = (
    "{s} verified that {p}.",
    "{s} said there was strong evidence that {p}.",
)
HELD_OUT_OPEN = ("{s} questioned whether {p}.",)

_KEEP_CAPITAL = re.compile(r"^(I|I'm|I've|[A-Z][a-z]*[A-Z]\w*|[A-Z]{2,}\w*)\b")
_LOWER_STARTS = {
    "a", "an", "the", "there", "this", "that", "these", "those", "some", "many", "two", "three",
    "four", "five", "one", "no", "all", "it", "he", "she", "they", "we", "you", "his", "her", "their",
    "our", "its", "people", "men", "women", "children", "nobody", "someone", "everyone", "several",
    "most", "each", "every", "both", "few", "none", "my", "your",
}


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: str


def as_clause(sentence: str) -> str | None:
    """A sentence as a clause to embed after "that": no final stop, first letter lowered when safe."""
    text = sentence.strip().rstrip(".!").strip()
    if not text or "?" in text or '"' in text or "\n" in text:
        return None
    words = text.split()
    if not 4 <= len(words) <= 30:
        return None
    first = words[0]
    if first.lower() in _LOWER_STARTS and not _KEEP_CAPITAL.match(first):
        text = first.lower() + text[len(first):]
    return text


def symmetric_contradictions(pairs: list[Pair]) -> list[Pair]:
    """The reverse of every contradiction pair (contradiction is symmetric)."""
    return [Pair(p.hypothesis, p.premise, CONTRADICTION) for p in pairs if p.label == CONTRADICTION]


def dispute_pairs(
    sentences: list[str], count: int, seed: int = 0, *, held_out: bool = False
) -> list[Pair]:
    """``count`` dispute-frame pairs built from ``sentences``.

    Mix: 45% denial vs content (contradiction, either direction), 20% confirmation vs content
    (entailment), 15% open question vs content (neutral), 20% a frame around one sentence
    against another, unrelated sentence (neutral).
    """
    rng = random.Random(seed)
    clauses = [c for c in (as_clause(s) for s in sentences) if c]
    if len(clauses) < 2:
        return []
    denial = HELD_OUT_DENIAL if held_out else DENIAL_FRAMES
    confirm = HELD_OUT_CONFIRM if held_out else CONFIRM_FRAMES
    open_ = HELD_OUT_OPEN if held_out else OPEN_FRAMES
    out: list[Pair] = []
    for _ in range(count):
        clause = rng.choice(clauses)
        plain = clause[0].upper() + clause[1:] + "."
        speaker = rng.choice(SPEAKERS)
        roll = rng.random()
        if roll < 0.45:
            framed = rng.choice(denial).format(s=speaker, p=clause)
            label = CONTRADICTION
        elif roll < 0.65:
            framed = rng.choice(confirm).format(s=speaker, p=clause)
            label = ENTAILMENT
        elif roll < 0.80:
            framed = rng.choice(open_).format(s=speaker, p=clause)
            label = NEUTRAL
        else:
            other = rng.choice(clauses)
            if other == clause:
                continue
            frames = denial + confirm
            framed = rng.choice(frames).format(s=speaker, p=other)
            label = NEUTRAL
        framed = framed[0].upper() + framed[1:]
        if label == CONTRADICTION and rng.random() < 0.5:
            out.append(Pair(plain, framed, label))
        else:
            out.append(Pair(framed, plain, label))
    return out


_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,]\d)")


def number_edits(pairs: list[Pair], count: int, seed: int = 0) -> list[Pair]:
    """Contradictions made by changing a number that the premise states and the hypothesis repeats."""
    rng = random.Random(seed)
    candidates = []
    for pair in pairs:
        if pair.label != ENTAILMENT:
            continue
        shared = set(_NUMBER.findall(pair.premise)) & set(_NUMBER.findall(pair.hypothesis))
        shared = {n for n in shared if not (len(n) == 4 and n.startswith(("19", "20")))}
        if shared:
            candidates.append((pair, sorted(shared)))
    rng.shuffle(candidates)
    out = []
    for pair, numbers in candidates[:count]:
        number = rng.choice(numbers)
        value = int(number.replace(",", ""))
        new = value + rng.choice([1, 2, 3, 5, 10]) if value < 20 else int(value * rng.choice([0.5, 2, 3, 1.5]))
        if new == value:
            new = value + 1
        new_text = f"{new:,}" if "," in number else str(new)
        hypothesis = re.sub(rf"(?<![\w.,]){re.escape(number)}(?![\w.,]\d)", new_text, pair.hypothesis, count=1)
        if hypothesis != pair.hypothesis:
            out.append(Pair(pair.premise, hypothesis, CONTRADICTION))
    return out


_CONTENT_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")


def _content_words(text: str) -> set[str]:
    return set(_CONTENT_WORD.findall(text.lower()))


def topic_neutrals(pairs: list[tuple[str, str]], count: int, seed: int = 0) -> list[Pair]:
    """Up to ``count`` neutral pairs: a claim against evidence that was written for another claim
    on the same topic (it shares at least two of the claim's less common words).

    Evidence of a claim that is a variant of this one (half or more of their words shared) is
    never used, so a rewritten or negated copy of the claim does not come back as "neutral".
    Teaches that evidence on the topic of a claim is not therefore for or against it.
    """
    rng = random.Random(seed)
    evidence = sorted({p for p, _ in pairs})
    index = {text: i for i, text in enumerate(evidence)}
    own: dict[str, set[int]] = {}
    claims_of: dict[int, set[str]] = {}
    for premise, claim in pairs:
        own.setdefault(claim, set()).add(index[premise])
        claims_of.setdefault(index[premise], set()).add(claim)
    words = [_content_words(text) for text in evidence]
    frequency: dict[str, int] = {}
    for ws in words:
        for w in ws:
            frequency[w] = frequency.get(w, 0) + 1
    too_common = max(3, len(evidence) // 20)
    postings: dict[str, list[int]] = {}
    for i, ws in enumerate(words):
        for w in ws:
            if frequency[w] <= too_common:
                postings.setdefault(w, []).append(i)
    claim_words = {c: _content_words(c) for c in own}
    claims = sorted(own)
    rng.shuffle(claims)
    out: list[Pair] = []
    for claim in claims:
        if len(out) >= count:
            break
        mine = claim_words[claim]
        shared: dict[int, int] = {}
        for w in mine:
            for i in postings.get(w, ()):
                shared[i] = shared.get(i, 0) + 1
        candidates = sorted((i for i, n in shared.items() if n >= 2 and i not in own[claim]),
                            key=lambda i: (-shared[i], i))
        candidates = [i for i in candidates[:20] if not any(_variant(mine, claim_words[c]) for c in claims_of[i])]
        if candidates:
            out.append(Pair(evidence[rng.choice(candidates[:10])], claim, NEUTRAL))
    return out


def _variant(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.5


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_YEAR = re.compile(r"(?<![\w.,])(1[6-9]\d\d|20\d\d)(?![\w.,]\d)")
_MONTH = re.compile(rf"\b({'|'.join(_MONTHS)})\b")


def date_edits(pairs: list[Pair], count: int, seed: int = 0) -> list[Pair]:
    """Contradictions made by changing a year or a month that the premise states and the hypothesis repeats."""
    rng = random.Random(seed)
    candidates = []
    for pair in pairs:
        if pair.label != ENTAILMENT:
            continue
        years = set(_YEAR.findall(pair.premise)) & set(_YEAR.findall(pair.hypothesis))
        months = set(_MONTH.findall(pair.premise)) & set(_MONTH.findall(pair.hypothesis))
        found = [("year", y) for y in sorted(years)] + [("month", m) for m in sorted(months)]
        if found:
            candidates.append((pair, found))
    rng.shuffle(candidates)
    out = []
    for pair, found in candidates[:count]:
        kind, old = rng.choice(found)
        if kind == "year":
            new = str(int(old) + rng.choice([-10, -3, -2, -1, 1, 2, 3, 10]))
            pattern = rf"(?<![\w.,]){old}(?![\w.,]\d)"
        else:
            new = rng.choice([m for m in _MONTHS if m != old])
            pattern = rf"\b{old}\b"
        hypothesis = re.sub(pattern, new, pair.hypothesis, count=1)
        if hypothesis != pair.hypothesis:
            out.append(Pair(pair.premise, hypothesis, CONTRADICTION))
    return out


#: Event reports with slots, for :func:`event_pairs`: (template, the slot that holds its figure).
EVENT_TEMPLATES = (
    ("The council in {place} approved {n} new homes on {day}.", "n"),
    ("{org} will cut {n} jobs at its {place} site, the company said on {day}.", "n"),
    ("Turnout in the {place} by-election on {day} was {pct}.", "pct"),
    ("{org} said its sales rose {pct} in the {quarter} quarter.", "pct"),
    ("{n} people were treated in hospital after a fire in {place} on {day}.", "n"),
    ("About {n} people attended the protest in {place} on {day}, organisers said.", "n"),
    ("{org} agreed to pay {money} for the land in {place}.", "money"),
    ("Bus fares in {place} will rise by {pct} from {month}.", "pct"),
    ("The ceasefire between {org} and the rebels in {place} took effect on {day}.", "day"),
    ("The flood barrier in {place} was raised on {day}.", "day"),
    ("Unemployment in {place} fell to {pct} in {month}.", "pct"),
    ("{org} reported a profit of {money} for the {quarter} quarter.", "money"),
)
_PLACES = ("Ashby", "Brindle", "Carrow", "Dunford", "Elmore", "Fenmouth", "Garston", "Hallam", "Inchmore",
           "Kelsey", "Linmouth", "Marford", "Northwick", "Oldwick", "Pellow", "Redcastle", "Stonebridge",
           "Tressington", "Wexcombe", "Aldwick")
_ORGS = ("Harwick Foods", "Norvale Energy", "Keystone Pharma", "Arbor Retail", "Bluewater Shipping",
         "Crescent Airlines", "Helix Networks", "Summit Steel", "Coastway Rail", "Greyfield Stores")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EVENT_MONTHS = ("January", "March", "April", "June", "September", "October", "November")
_QUARTERS = ("first", "second", "third", "fourth")
#: Percentages and the fractions that say the same.
_FRACTION_WORDS = {25: "a quarter", 50: "half", 75: "three quarters", 20: "a fifth", 10: "a tenth"}
_SMALL_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")


def _event_slots(rng: random.Random) -> dict:
    return {
        "place": rng.choice(_PLACES), "org": rng.choice(_ORGS), "day": rng.choice(_DAYS),
        "month": rng.choice(_EVENT_MONTHS), "quarter": rng.choice(_QUARTERS),
        "n": rng.choice([7, 12, 40, 120, 240, 450, 1200, 3500, 18000]),
        "pct": rng.choice([4, 10, 20, 23, 25, 38, 50, 61, 75]),
        "money": rng.choice([2, 4.5, 12, 40, 310, 1900]),
    }


def _say(slot: str, value, rng: random.Random, *, other_form: bool = False) -> str:
    """A slot's value as news copy writes it; ``other_form`` writes the same value another way."""
    if slot == "n":
        if other_form and value <= 12:
            return _SMALL_WORDS[value]
        if other_form and value >= 1000:
            return f"{value / 1000:g} thousand"
        return f"{value:,}"
    if slot == "pct":
        if other_form and value in _FRACTION_WORDS:
            return _FRACTION_WORDS[value]
        return f"{value} per cent" if other_form else f"{value}%"
    if slot == "money":
        if value >= 1000:
            return f"£{value / 1000:g}bn" if not other_form else f"{value / 1000:g} billion pounds"
        return f"£{value:g}m" if not other_form else f"{value:g} million pounds"
    return str(value)


def event_pairs(count: int, seed: int = 0) -> list[Pair]:
    """``count`` pairs that teach event identity and figures.

    Mix: 40% the same template about a *different* event (another place, organisation, day,
    month or quarter, and another figure): neutral; 35% the same event with an incompatible
    figure or day, often written differently: contradiction; 25% the same event with the same
    figure written another way ("25%" / "a quarter", "£2m" / "2 million pounds"): entailment.
    """
    rng = random.Random(seed)
    out: list[Pair] = []
    for _ in range(count):
        template, slot = rng.choice(EVENT_TEMPLATES)
        slots = _event_slots(rng)
        said = {k: _say(k, v, rng) for k, v in slots.items()}
        first = template.format(**said)
        roll = rng.random()
        other = dict(slots)
        if roll < 0.40:
            changed = [k for k in ("place", "org", "day", "month", "quarter") if "{" + k + "}" in template
                       and k != slot]
            for key in rng.sample(changed, min(len(changed), rng.randint(1, 2))):
                while other[key] == slots[key]:
                    other[key] = _event_slots(rng)[key]
            if slot in ("n", "pct", "money"):
                while other[slot] == slots[slot]:
                    other[slot] = _event_slots(rng)[slot]
            second = template.format(**{k: _say(k, v, rng) for k, v in other.items()})
            label = NEUTRAL
        elif roll < 0.75:
            if slot in ("n", "pct", "money"):
                factor = rng.choice([0.3, 0.5, 2, 3])
                other[slot] = round(slots[slot] * factor) if slot != "money" else slots[slot] * factor
                if other[slot] == slots[slot]:
                    other[slot] = slots[slot] + 1
            else:
                while other[slot] == slots[slot]:
                    other[slot] = _event_slots(rng)[slot]
            second = template.format(**{k: _say(k, v, rng, other_form=rng.random() < 0.5) if k == slot
                                        else said[k] for k, v in other.items()})
            label = CONTRADICTION
        else:
            second = template.format(**{k: _say(k, v, rng, other_form=True) if k == slot else said[k]
                                        for k, v in slots.items()})
            label = ENTAILMENT
        second = second[0].upper() + second[1:]
        if second == first:
            continue
        out.append(Pair(first, second, label) if rng.random() < 0.5 else Pair(second, first, label))
    return out


#: Opposite states of one subject, said with few shared words, for :func:`opposite_pairs`:
#: (subject templates, phrasings of one state, phrasings of the state that excludes it).
OPPOSITE_STATES = (
    (("the {place} Bridge", "{place} station", "{place} Primary School", "the {place} tunnel", "{place} library",
      "the {place} museum"),
     ("reopened on {day}", "is open again", "opened its doors again on {day}", "is back in use"),
     ("remains closed", "is still shut", "has not reopened", "will stay closed until further notice")),
    (("Trains between {place} and {place2}", "Ferry services to {place}", "Flights from {place}",
      "Bus services in {place}"),
     ("resumed on {day}", "are running normally again", "are back to their usual timetable"),
     ("remain suspended", "are still cancelled", "have not restarted", "are still halted")),
    (("Homes in {place}", "Every household in {place}", "Businesses in {place}"),
     ("have had their power restored", "are back on the grid", "have electricity again"),
     ("are still without power", "remain cut off from the grid", "still have no electricity")),
    (("{person}", "The missing walker", "The climber who fell near {place}"),
     ("was found alive", "was rescued unharmed", "survived"),
     ("was found dead", "died at the scene", "did not survive")),
    (("{person}",),
     ("was found guilty", "was convicted", "was jailed after being found guilty"),
     ("was acquitted", "was cleared of all charges", "was found not guilty")),
    (("The plan for {n} homes in {place}", "The {place} bypass scheme", "The new stadium in {place}"),
     ("was approved by councillors", "got the go-ahead", "was given planning permission"),
     ("was rejected by councillors", "was turned down", "was refused planning permission")),
    (("House prices in {place}", "{org}'s sales", "Unemployment in {place}", "Passenger numbers at {place} airport"),
     ("rose in {month}", "went up in {month}", "increased in {month}", "climbed in {month}"),
     ("fell in {month}", "went down in {month}", "dropped in {month}", "declined in {month}")),
    (("The {place} festival", "The {place} marathon", "Saturday's match in {place}", "The launch from {place}"),
     ("went ahead as planned", "took place as scheduled", "was held on {day} as expected"),
     ("was cancelled", "was called off", "was scrapped at the last minute", "did not take place")),
    (("Tap water in {place}", "The water supply in {place}"),
     ("is safe to drink", "meets every safety standard", "can be drunk without boiling"),
     ("is unsafe to drink", "must be boiled before drinking", "failed its safety tests")),
    (("{person}",),
     ("won the {place} seat", "was elected in {place}", "took the {place} seat"),
     ("lost the {place} seat", "was defeated in {place}", "failed to win the {place} seat")),
    (("Workers at {org}", "The union at {org}", "Nurses in {place}"),
     ("accepted the pay offer", "voted to accept the pay deal", "agreed to the new offer"),
     ("rejected the pay offer", "voted against the pay deal", "turned down the new offer")),
    (("Funding for libraries in {place}", "The youth service budget in {place}", "Spending on roads in {place}"),
     ("is protected", "will not be cut", "stays at the same level", "is safe from cuts"),
     ("will be cut", "faces cuts", "is being reduced", "will shrink next year")),
    (("The ceasefire in {place}", "The truce around {place}"),
     ("held overnight", "is holding", "has been respected by both sides"),
     ("collapsed overnight", "broke down", "was broken within hours", "has been violated repeatedly")),
    (("The strike at {org}", "The walkout by staff at {org}"),
     ("went ahead on {day}", "began on {day}", "is under way"),
     ("was called off", "was suspended before it began", "will not go ahead")),
    (("{place} Primary School", "The {org} plant", "{place} care home"),
     ("passed its inspection", "was rated good by inspectors", "met every standard"),
     ("failed its inspection", "was rated inadequate by inspectors", "fell short of the standards")),
    (("{person}",),
     ("was charged", "was charged by police", "now faces charges"),
     ("was released without charge", "was freed without charge", "was let go without charge")),
    (("The {org} flight to {place}", "The morning train from {place}"),
     ("arrived on time", "left on schedule", "ran to time"),
     ("was delayed by three hours", "arrived hours late", "was badly delayed")),
    (("People over 65", "Children under five", "Pregnant women"),
     ("were included in the trial", "took part in the study", "were among the volunteers"),
     ("were excluded from the trial", "were not part of the study", "were left out of the trial")),
    (("{person}",),
     ("resigned as {role}", "stepped down as {role}", "quit as {role}"),
     ("remains {role}", "is still {role}", "stays on as {role}")),
    (("{person}",),
     ("attended the summit in {place}", "was at the summit in {place}", "took part in the summit in {place}"),
     ("did not attend the summit in {place}", "stayed away from the summit in {place}",
      "missed the summit in {place}")),
    (("Bus fares in {place}", "Parking charges in {place}", "Council tax in {place}"),
     ("will go up", "are rising", "will increase"),
     ("will be cut", "are being lowered", "will fall")),
    (("The stolen painting", "The missing dog", "The stolen van"),
     ("has been recovered", "was found on {day}", "has been returned"),
     ("is still missing", "has not been found", "remains lost")),
    (("{org}",),
     ("made a profit in the {quarter} quarter", "returned to profit in the {quarter} quarter",
      "was in the black in the {quarter} quarter"),
     ("made a loss in the {quarter} quarter", "fell into the red in the {quarter} quarter",
      "lost money in the {quarter} quarter")),
    (("Residents of {place}", "Families evacuated from {place}"),
     ("were allowed to return home", "have gone back to their homes", "are back in their houses"),
     ("are still evacuated", "remain in emergency shelters", "have not been allowed home")),
)
_PEOPLE = ("Martin Hale", "Karen Osei", "Owen Price", "Ruth Adeyemi", "Tom Beckett", "Priya Nair", "Sean Doyle",
           "Elena Marsh", "Gareth Lloyd", "Aisha Rahman", "Daniel Frost", "Helen Ward")
_ROLES = ("chair", "party leader", "chief executive", "health minister", "head teacher", "mayor")


def _opposite_slots(rng: random.Random) -> dict:
    place, place2 = rng.sample(_PLACES, 2)
    return {"place": place, "place2": place2, "person": rng.choice(_PEOPLE), "org": rng.choice(_ORGS),
            "day": rng.choice(_DAYS), "month": rng.choice(_EVENT_MONTHS), "quarter": rng.choice(_QUARTERS),
            "role": rng.choice(_ROLES), "n": rng.choice([40, 120, 240, 450, 1200])}


def _sentence(subject: str, state: str, slots: dict) -> str:
    text = f"{subject} {state}.".format(**slots)
    return text[0].upper() + text[1:]


def opposite_pairs(count: int, seed: int = 0) -> list[Pair]:
    """``count`` pairs about states that exclude each other, said with few shared words.

    Mix: 40% one subject in opposite states ("the bridge reopened" / "the bridge is still shut"):
    contradiction; 30% one subject, one state in other words: entailment; 30% the opposite state
    of *another* subject (another place, person or organisation): neutral, so that the model
    learns that opposite wording alone is not a contradiction.
    """
    rng = random.Random(seed)
    out: list[Pair] = []
    for _ in range(count):
        subjects, one, other = rng.choice(OPPOSITE_STATES)
        subject = rng.choice(subjects)
        slots = _opposite_slots(rng)
        if rng.random() < 0.5:
            one, other = other, one
        said = rng.choice(one)
        first = _sentence(subject, said, slots)
        roll = rng.random()
        if roll < 0.40:
            second, label = _sentence(subject, rng.choice(other), slots), CONTRADICTION
        elif roll < 0.70:
            second, label = _sentence(subject, rng.choice([s for s in one if s != said]), slots), ENTAILMENT
        else:
            keys = [k for k in ("place", "person", "org") if "{" + k + "}" in subject]
            if not keys:
                continue
            moved = dict(slots)
            for key in keys:
                while moved[key] == slots[key]:
                    moved[key] = _opposite_slots(rng)[key]
            second, label = _sentence(subject, rng.choice(other + one), moved), NEUTRAL
        if second == first:
            continue
        out.append(Pair(first, second, label) if rng.random() < 0.5 else Pair(second, first, label))
    return out
