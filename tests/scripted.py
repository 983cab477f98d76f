"""A scripted NLI model: the real :class:`NLIModel` (tokenizer, windowing, window choice,
calibration-free probabilities) whose forward pass answers from a script instead of weights.

Each rule is ``(premise part, hypothesis part, probabilities)``: a model input whose premise
contains the first and whose hypothesis contains the second gets those probabilities (the first
rule that matches wins); any other input is :data:`UNSURE`. Every input put to the model is kept
in ``seen``, in order, so tests can also say what the model was asked.
"""

from __future__ import annotations

import numpy as np

from nli_check.labels import LABELS
from nli_check.nli import NLIModel

#: What the scripted model says of an input that no rule matches: neutral, not decided.
UNSURE = {"contradiction": 0.1, "entailment": 0.1, "neutral": 0.8}


def probs(contradiction: float = 0.0, entailment: float = 0.0, neutral: float | None = None) -> dict:
    """A probability row; neutral takes the rest unless given."""
    if neutral is None:
        neutral = 1.0 - contradiction - entailment
    return {"contradiction": contradiction, "entailment": entailment, "neutral": neutral}


class ScriptedNLIModel(NLIModel):
    def __init__(self, model_dir, rules=(), *, max_length: int = 64) -> None:
        super().__init__(model_dir, device="cpu", backend="torch", quantize=None, max_length=max_length)
        self.rules = list(rules)
        self.seen: list[tuple[str, str]] = []

    def answer(self, premise: str, hypothesis: str) -> dict:
        for premise_part, hypothesis_part, row in self.rules:
            if premise_part in premise and hypothesis_part in hypothesis:
                return row
        return UNSURE

    def _run(self, pairs, batch_size, max_tokens, show_progress, apply_temperature):
        self.seen.extend(pairs)
        rows = [[self.answer(p, h)[name] for name in LABELS] for p, h in pairs]
        # Log-probabilities as logits: the model's softmax gives the scripted numbers back.
        return np.log(np.clip(np.asarray(rows, dtype=np.float64), 1e-9, None)).reshape(-1, len(LABELS))
