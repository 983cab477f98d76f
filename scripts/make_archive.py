"""Build a synthetic news archive (JSONL) with planted contradictions, for scan benchmarks.

Articles are assembled from templates: background sentences, reported statements with a
speaker, and facts about a small set of events. Some events are reported with facts that
contradict each other in articles of different sources; they are listed in a truth file.
The output is deterministic for a given seed.

    python scripts/make_archive.py --sentences 100000 --output runs/archive-100k.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

SOURCES = [
    "Daily Ledger",
    "Northern Herald",
    "Coastal Times",
    "Metro Wire",
    "Capital Post",
    "Evening Standard Press",
    "Valley Gazette",
    "Harbor Chronicle",
    "Summit News",
    "Plains Courier",
]
PLACES = [
    "Ardenne",
    "Bellport",
    "Carvale",
    "Dunmore",
    "Eastfield",
    "Fairhaven",
    "Glenrock",
    "Hollis",
    "Ironbridge",
    "Juniper Bay",
    "Kestrel",
    "Lowmoor",
    "Marsden",
    "Northwick",
    "Oakridge",
    "Pellham",
]
COUNTRIES = [
    "Varanthia",
    "Ostrelia",
    "Kandor",
    "Lusivia",
    "Morvania",
    "Tessaly",
    "Druvenia",
    "Calder",
]
PEOPLE = [
    "Maria Okafor",
    "James Whitfield",
    "Lena Petrova",
    "Samuel Ortiz",
    "Aiko Tanaka",
    "David Mensah",
    "Clara Jensen",
    "Omar Haddad",
    "Priya Raman",
    "Thomas Keller",
    "Elena Rossi",
    "Victor Lindqvist",
]
ROLES = [
    "the finance minister",
    "the mayor",
    "a company spokesperson",
    "the police chief",
    "the health secretary",
    "a senior official",
    "the union leader",
    "the defence minister",
]
COMPANIES = [
    "Norvale Energy",
    "Brightline Motors",
    "Keystone Pharma",
    "Helix Networks",
    "Arbor Foods",
    "Summit Steel",
    "Bluewater Shipping",
    "Crescent Airlines",
]
TOPICS = [
    "inflation",
    "the housing market",
    "the new rail line",
    "the water supply",
    "the budget",
    "the trade talks",
    "the hospital strike",
    "the wildfire season",
    "the election",
    "the port expansion",
]

BACKGROUND = [
    "Residents of {place} have followed {topic} closely for months.",
    "The debate over {topic} has divided opinion in {country}.",
    "Analysts expect {topic} to dominate the agenda this week.",
    "Critics say the government has been slow to respond to concerns about {topic}.",
    "Local businesses in {place} say they are worried about {topic}.",
    "The issue of {topic} was raised again at a meeting in {place} on {weekday}.",
    "Several groups have called for an independent review of {topic}.",
    "Officials in {country} have promised an update on {topic} before the end of the month.",
    "Shares of {company} moved little in early trading.",
    "{company} employs about {n} people in {place}.",
    "The weather in {place} is expected to stay dry for the rest of the week.",
    "Traffic was heavy around {place} after a lane closure on the main road.",
    "Community leaders in {place} plan to hold a public forum next month.",
]
QUOTES = [
    "{person}, {role}, said the situation around {topic} was under control.",
    "{person} told reporters that more work was needed on {topic}.",
    "According to {person}, the talks on {topic} made good progress.",
    "{person} said the plan for {topic} would be published soon.",
    "{role_cap} warned that costs linked to {topic} could rise further.",
]
#: Event facts: (statement, contradicting statement). Slots filled per event.
FACTS = [
    (
        "{company} will close its factory in {place} next year, affecting {n} jobs.",
        "{company} has no plans to close its factory in {place}, a spokesperson said.",
    ),
    (
        "The central bank of {country} raised interest rates by {pct} points on {weekday}.",
        "The central bank of {country} left interest rates unchanged on {weekday}.",
    ),
    (
        "{count} people were killed when floods hit {place} on {weekday}.",
        "Nobody was killed when floods hit {place} on {weekday}, officials confirmed.",
    ),
    (
        "{country} is withdrawing its troops from the border near {place}.",
        "{person} said there was no evidence that {country} was withdrawing troops from the border near {place}.",
    ),
    (
        "The new bridge in {place} will open to traffic in {month}.",
        "The opening of the new bridge in {place} has been postponed indefinitely.",
    ),
    (
        "{company} reported a record profit for the last quarter.",
        "{company} reported a loss for the last quarter, its first in a decade.",
    ),
    (
        "Unemployment in {country} fell to {pct} percent last month.",
        "Unemployment in {country} rose sharply last month.",
    ),
    (
        "The mayor of {place} resigned on {weekday} after weeks of pressure.",
        "The mayor of {place} denied that she would resign.",
    ),
]
CONFIRM = [
    "{company} confirmed the decision in a statement.",
    "The figures were published by the statistics office of {country}.",
    "Emergency services in {place} gave the latest figures on {weekday}.",
]
#: Look-alike articles: the same templates about other events (another town, day or quarter),
#: with other figures. None of them contradicts another: they are about different events.
LOOKALIKES = [
    "Residents of {place} discussed {topic} at a public meeting on {weekday}.",
    "About {n} people attended the meeting in {place}, the organisers said.",
    "The council in {place} approved {count} new homes on {weekday}.",
    "{company} said its sales rose {pct} percent in the {quarter} quarter.",
    "A ceasefire between {country} and {country2} took effect on {day} {month}.",
    "The council in {place} voted to keep the library open on {weekday}.",
    "{count} people were treated in hospital after a fire in {place} on {weekday}.",
    "Turnout in the {place} by-election was {pct} percent, officials said.",
]
QUARTERS = ["first", "second", "third", "fourth"]
LOOKALIKE_SUFFIXES = ["Vale", "Green", "Cross", "Heath", "Moor", "Bridge", "Hill", "Wells", "Ford", "Marsh", "Park",
                      "Down", "End", "Gate", "Field", "Row", "Lea", "Combe", "Holt", "Wick"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["March", "April", "May", "June", "September", "October"]


def _slots(rng: random.Random) -> dict:
    role = rng.choice(ROLES)
    return {
        "place": rng.choice(PLACES),
        "country": rng.choice(COUNTRIES),
        "person": rng.choice(PEOPLE),
        "role": role,
        "role_cap": role[0].upper() + role[1:],
        "company": rng.choice(COMPANIES),
        "topic": rng.choice(TOPICS),
        "weekday": rng.choice(WEEKDAYS),
        "month": rng.choice(MONTHS),
        "n": rng.choice([120, 450, 800, 1200, 2500]),
        "pct": rng.choice(["0.25", "0.5", "4.1", "5.3"]),
        "count": rng.choice([3, 7, 12, 21, 40]),
    }


def _lookalike_article(rng: random.Random) -> list[str]:
    """Sentences of an article about an event of its own, written from the shared templates."""
    slots = _slots(rng)
    # Look-alikes are other events: a place of their own, so no two are one event by accident.
    slots["place"] = f"{rng.choice(PLACES)} {rng.choice(LOOKALIKE_SUFFIXES)}"
    others = [c for c in COUNTRIES if c != slots["country"]]
    slots |= {"quarter": rng.choice(QUARTERS), "country2": rng.choice(others), "day": rng.randint(1, 28)}
    return [t.format(**slots) for t in rng.sample(LOOKALIKES, rng.randint(3, 5))]


#: Figures, weekdays and months: what two statements of one template about one thing may differ in.
_VALUES = re.compile(r"\d+(?:\.\d+)?|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|"
                     r"February|March|April|May|June|July|August|September|October|November|December)\b")
class World:
    """What the archive has already said, so that it never contradicts itself by accident.

    Two sentences about the same thing (the same words, in any order, once figures, weekdays
    and months are blanked out: "a ceasefire between Kandor and Tessaly" is one between
    Tessaly and Kandor) say the same figures, weekdays and months: the second repeats the
    first. Random slots would otherwise write "Summit Steel's sales rose 4.1 percent in the
    second quarter" and, two days later, "5.3 percent": a real conflict that no truth file
    lists. Only planted contradictions conflict.
    """

    def __init__(self) -> None:
        self._said: dict[str, str] = {}

    def say(self, text: str) -> str:
        return self._said.setdefault(topic_key(text), text)


def topic_key(text: str) -> str:
    """What a sentence is about: its words in sorted order, figures, weekdays and months blanked."""
    return " ".join(sorted(re.findall(r"[\w#']+", _VALUES.sub("#", text).lower())))


def build(sentences: int, seed: int, contradiction_rate: float = 0.15, lookalikes: float = 0.0):
    """Yield (article dict, truth list) until about ``sentences`` sentences were written.

    With ``lookalikes`` > 0, that share of the articles are look-alikes: template sentences about
    events of their own (:data:`LOOKALIKES`), which share wording but never contradict each other.
    """
    rng = random.Random(seed)
    world = World()
    start = date(2024, 1, 1)
    events = []  # (slots, fact index, date) reported by several articles
    written = 0
    number = 0
    while written < sentences:
        number += 1
        slots = _slots(rng)
        source = rng.choice(SOURCES)
        day = start + timedelta(days=rng.randrange(0, 365))
        body = []
        truth = []
        if lookalikes and rng.random() < lookalikes:
            body = [world.say(text) for text in _lookalike_article(rng)]
            written += len(body)
            yield {
                "id": f"a{number:07d}",
                "source": source,
                "date": day.isoformat(),
                "title": f"News from {slots['place']}",
                "text": " ".join(body),
            }, truth
            continue
        # An event fact: a new event, or an earlier one, now maybe contradicted.
        if events and rng.random() < 0.5:
            event = rng.choice(events)
            event_slots, fact, first_day, first_source, first_id, first_text = event
            day = first_day + timedelta(days=rng.randrange(0, 4))
            contradict = rng.random() < contradiction_rate * 3 and source != first_source
            text = world.say(FACTS[fact][1].format(**event_slots)) if contradict else first_text
            body.append(text)
            if contradict:
                truth.append(
                    {
                        "a_article_id": first_id,
                        "a_text": first_text,
                        "b_article_id": f"a{number:07d}",
                        "b_text": text,
                    }
                )
        else:
            fact = rng.randrange(len(FACTS))
            text = world.say(FACTS[fact][0].format(**slots))
            body.append(text)
            events.append((slots, fact, day, source, f"a{number:07d}", text))
            if len(events) > 2000:
                events.pop(0)
        body.append(world.say(rng.choice(CONFIRM).format(**slots)))
        for _ in range(rng.randint(3, 10)):
            pool = QUOTES if rng.random() < 0.3 else BACKGROUND
            body.append(world.say(rng.choice(pool).format(**_slots(rng) | {"topic": slots["topic"]})))
        rest = body[1:]
        rng.shuffle(rest)
        body = body[:1] + rest
        written += len(body)
        article = {
            "id": f"a{number:07d}",
            "source": source,
            "date": day.isoformat(),
            "title": f"{slots['topic'].capitalize()} in {slots['place']}",
            "text": " ".join(body),
        }
        yield article, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=100_000, help="about this many sentences")
    parser.add_argument("--output", type=Path, required=True, help="the JSONL archive to write")
    parser.add_argument("--truth", type=Path, help="write the planted contradictions here (JSONL)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--lookalikes", type=float, default=0.0,
                        help="share of look-alike articles: shared templates, other events (0-1)")
    args = parser.parse_args()

    # Step 1: generate articles and write them as they come (memory stays flat).
    args.output.parent.mkdir(parents=True, exist_ok=True)
    articles = planted = 0
    truth_handle = open(args.truth, "w", encoding="utf-8") if args.truth else None
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            for article, truth in build(args.sentences, args.seed, lookalikes=args.lookalikes):
                handle.write(json.dumps(article) + "\n")
                articles += 1
                planted += len(truth)
                if truth_handle:
                    for row in truth:
                        truth_handle.write(json.dumps(row) + "\n")
    finally:
        if truth_handle:
            truth_handle.close()
    # Step 2: report.
    print(
        json.dumps(
            {
                "output": str(args.output),
                "articles": articles,
                "planted_contradictions": planted,
                "seed": args.seed,
                "sentences_requested": args.sentences,
            }
        )
    )


if __name__ == "__main__":
    main()
