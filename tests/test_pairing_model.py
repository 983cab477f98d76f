"""The seed article's hardest pair: Stoltenberg's "no signs of de-escalation on the ground" against
Moscow's "withdrawing some forces from the border". The NLI model calls the pair a contradiction
(0.85), but the default embedder never pairs it: cosine 0.11, 11th of the article's 24 other
sentences (the stock all-MiniLM-L6-v2: 0.10, 14th). This test holds the target; it is expected to
fail until a pairing model meets it."""

from __future__ import annotations

import pytest


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="target not met: the default embedder ranks Moscow's withdrawal 11th "
                                       "for Stoltenberg's sentence (cosine 0.11), below top-5 and the 0.2 floor")
def test_seed_article_pairs_no_de_escalation_with_the_withdrawal(seed_article, shipped_model_dir):
    from nli_check.pipeline import check

    result = check([seed_article], [seed_article], device="cpu", show="all", threshold=0.0)

    def is_pair(f):
        texts = {f.claim.text, f.evidence.text}
        stoltenberg = any("no signs of de-escalation" in t for t in texts)
        moscow = any(t.startswith("Moscow said it was withdrawing") for t in texts)
        return stoltenberg and moscow

    paired = [f for f in result.findings if is_pair(f)]
    assert paired, "Stoltenberg's sentence was never paired with Moscow's withdrawal"
    assert any(f.label == "contradiction" for f in paired), [(f.label, f.confidence) for f in paired]
