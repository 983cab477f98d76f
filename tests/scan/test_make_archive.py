"""``scripts/make_archive.py`` writes a world that contradicts itself only where the truth file says so."""

from __future__ import annotations

import itertools
import re

from .helpers import make_archive_module


def test_only_planted_contradictions_differ_in_their_figures():
    """Sentences about one thing (the same words in any order, figures and dates blanked) agree."""
    module = make_archive_module()
    said: dict[str, set[str]] = {}
    planted = set()
    for article, truth in module.build(4000, seed=11, lookalikes=0.5):
        for sentence in re.split(r"(?<=\.) ", article["text"]):
            said.setdefault(module.topic_key(sentence), set()).add(sentence)
        planted |= {frozenset((row["a_text"], row["b_text"])) for row in truth}
    assert planted
    for statements in said.values():
        for a, b in itertools.combinations(sorted(statements), 2):
            assert frozenset((a, b)) in planted, (a, b)
