"""The shipped pairing embedder: it runs on the fast embedding path, and on the seed article
it pairs Stoltenberg's "no signs of de-escalation" with Moscow's withdrawal, which the NLI model
then labels a contradiction (the stock all-MiniLM-L6-v2 never pairs them: cosine 0.10)."""

from __future__ import annotations

import pytest

from nli_check.errors import NLICheckError


@pytest.fixture(scope="module")
def pairing_model_dir():
    from nli_check.models import DEFAULT_EMBEDDER, MINILM, shipped_model_path

    if DEFAULT_EMBEDDER == MINILM:
        pytest.skip("the default embedder is the stock all-MiniLM-L6-v2: no pairing model is shipped")
    path = shipped_model_path(DEFAULT_EMBEDDER)
    if path is None:
        pytest.skip(f"the pairing model {DEFAULT_EMBEDDER} is not installed")
    return path


@pytest.mark.slow
def test_the_shipped_pairing_model_runs_on_the_fast_path(pairing_model_dir):
    import numpy as np

    from nli_check.embed import Embedder, _DirectEncoder

    embedder = Embedder(device="cpu", backend="torch")
    assert isinstance(embedder.encoder, _DirectEncoder)
    onnx = Embedder(device="cpu", backend="onnx")
    texts = ["Moscow said it was withdrawing some forces from the border.",
             "Nato saw no signs of de-escalation on the ground."]
    np.testing.assert_allclose(embedder.embed(texts), onnx.embed(texts), atol=1e-4)


@pytest.mark.slow
def test_seed_article_pairs_no_de_escalation_with_the_withdrawal(pairing_model_dir, seed_article):
    from nli_check.pipeline import check

    try:
        result = check([seed_article], [seed_article], device="cpu", show="all", threshold=0.0)
    except NLICheckError as exc:  # pragma: no cover - the NLI model is part of the install
        pytest.skip(str(exc))

    def is_pair(f):
        texts = {f.claim.text, f.evidence.text}
        stoltenberg = any("no signs of de-escalation" in t for t in texts)
        moscow = any(t.startswith("Moscow said it was withdrawing") for t in texts)
        return stoltenberg and moscow

    paired = [f for f in result.findings if is_pair(f)]
    assert paired, "Stoltenberg's sentence was never paired with Moscow's withdrawal"
    assert any(f.label == "contradiction" for f in paired), [(f.label, f.confidence) for f in paired]
