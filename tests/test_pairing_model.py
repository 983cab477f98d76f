"""The seed article's hardest pair: Stoltenberg's "no signs of de-escalation on the ground" against
Moscow's "withdrawing some forces from the border". Embedders put the two far apart (cosine 0.12
with the default embedder, 11th of the article's 24 other sentences), so sentence by sentence the
pair is never compared. Stoltenberg's sentence is a bare dispute: it denies a thing named by a noun
without saying whose claim that is, and follows Wallace's "no evidence of withdrawal". Embedded with
the sentence before it (``pipeline._embed_views``), it pairs with Moscow's withdrawal, and the NLI
model calls the pair a contradiction."""

from __future__ import annotations

import pytest


def test_a_bare_dispute_is_read_with_the_sentence_before_it():
    from nli_check.pipeline import _bare_disputes
    from nli_check.text import segment
    from nli_check.types import Document

    article = segment(Document("article.txt", (
        "Moscow said it was pulling some units back. Nato said it saw no signs of de-escalation. "
        "The Kremlin denied that its troops were massing.")))
    second = segment(Document("wire.txt", "The alliance saw no sign of a withdrawal."))
    bare = _bare_disputes(article + second)
    assert [(article + second)[i].text for i in bare] == ["Nato said it saw no signs of de-escalation."]


@pytest.mark.slow
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
