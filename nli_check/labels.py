"""Canonical NLI labels and the mapping of the many names datasets and models use for them."""

from __future__ import annotations

from collections.abc import Mapping

from nli_check.errors import NLICheckError

CONTRADICTION = "contradiction"
ENTAILMENT = "entailment"
NEUTRAL = "neutral"
NOT_ENTAILMENT = "not_entailment"
#: A training label only: "anything but contradiction", for pairs known not to contradict whose
#: entailment or neutrality is unknown (the pairs of a findings case, :mod:`nli_check.cases`).
#: Training scores it by the probability the model gives to the labels other than contradiction.
NOT_CONTRADICTION = "not-contradiction"

#: The confidence a finding needs to be reported by ``check``: chosen on the dev half of the
#: findings benchmark (data/cases) with the shipped model and pairing embedder, for the best F1
#: with precision at least recall (0.46 at 0.7: precision 0.56, recall 0.39).
DEFAULT_THRESHOLD = 0.7
#: The same for ``scan``, chosen on the dev archive of the findings benchmark: 0.7 found 12 of 17
#: planted conflicts with 1.0 false conflict per 1,000 sentences, 0.75 found 11 with 0.5; the
#: planted conflicts are the target still unmet.
SCAN_THRESHOLD = 0.7

#: The canonical order of probability columns everywhere in nli-check.
LABELS: tuple[str, str, str] = (CONTRADICTION, ENTAILMENT, NEUTRAL)

_SYNONYMS: dict[str, str] = {}
for _name in ("contradiction", "contradict", "contradicts", "contradictory", "c", "refutes",
              "refute", "refuted", "false"):
    _SYNONYMS[_name] = CONTRADICTION
for _name in ("entailment", "entail", "entails", "entailed", "e", "supports", "support",
              "supported", "true"):
    _SYNONYMS[_name] = ENTAILMENT
for _name in ("neutral", "n", "not enough info", "not_enough_info", "not-enough-info", "nei",
              "notenoughinfo", "unknown"):
    _SYNONYMS[_name] = NEUTRAL
for _name in ("not_entailment", "not entailment", "not-entailment", "non-entailment",
              "non_entailment", "not_entailed"):
    _SYNONYMS[_name] = NOT_ENTAILMENT


def normalize_label(value: object) -> str | None:
    """Map a label name onto contradiction / entailment / neutral / not_entailment.

    Returns ``None`` for a name it does not know. Numbers are never guessed: give an
    explicit label map for numeric labels.
    """
    if value is None or isinstance(value, bool) or isinstance(value, (int, float)):
        return None
    key = str(value).strip().lower().replace("  ", " ")
    return _SYNONYMS.get(key)


def map_model_labels(id2label: Mapping[int, str] | None, source: str = "the model") -> dict[str, int]:
    """Map a model's ``config.id2label`` to ``{canonical label: class index}``.

    Contradiction and entailment must both be present; neutral may be missing (two-way
    models). Raises :class:`NLICheckError` naming the labels found otherwise.
    """
    if not id2label:
        raise NLICheckError(f"{source} has no id2label in its config: it is not an NLI classifier")
    mapping: dict[str, int] = {}
    for index, name in id2label.items():
        canonical = normalize_label(name)
        if canonical is None or canonical == NOT_ENTAILMENT:
            continue
        if canonical in mapping:
            raise NLICheckError(f"{source} has two labels that both mean {canonical}: {dict(id2label)}")
        mapping[canonical] = int(index)
    if CONTRADICTION not in mapping or ENTAILMENT not in mapping:
        names = ", ".join(str(v) for v in id2label.values())
        raise NLICheckError(
            f"{source} is not an NLI classifier nli-check can read: its labels are [{names}], "
            "and contradiction and entailment must be among them (set id2label in config.json)"
        )
    return mapping
