"""Shared fixtures. Tests are offline by construction: no hub is ever reached."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from nli_check.types import Document  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED_ARTICLE_DIR = SHARED / "seeds"


@pytest.fixture(scope="session", autouse=True)
def _private_caches(tmp_path_factory):
    """ONNX graphs, scan stores and dataset caches go to a folder of this test session, never the
    user's ``~/.cache``: a graph left there by an earlier run could hide an export regression."""
    import sys

    root = tmp_path_factory.mktemp("caches")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NLI_CHECK_CACHE", str(root / "nli-check"))
        patch.setenv("NLI_CHECK_STORE", str(root / "scan"))
        # Labelled data read through `datasets` is cached as Arrow files: here too, not ~/.cache.
        patch.setenv("HF_DATASETS_CACHE", str(root / "datasets"))
        if "datasets" in sys.modules:  # read at import: already imported, so set it there as well
            patch.setattr(sys.modules["datasets"].config, "HF_DATASETS_CACHE", root / "datasets")
        yield root


def build_tiny_nli_model(path: Path, id2label: dict[int, str] | None = None, seed: int = 0) -> Path:
    """A 2-layer BERT classifier with the MiniLM tokenizer, built from a config (no download)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from nli_check.models import minilm_path

    id2label = id2label or {0: "entailment", 1: "neutral", 2: "contradiction"}
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(path, safe_serialization=True)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """Directory of a tiny, untrained 3-label NLI model (labels in a non-standard order)."""
    return build_tiny_nli_model(tmp_path_factory.mktemp("tiny-nli"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from nli_check.nli import NLIModel

    return NLIModel(tiny_model_dir, device="cpu", max_length=64)


@pytest.fixture()
def scripted_model(tiny_model_dir):
    """``scripted_model(rules)``: an :class:`NLIModel` whose probabilities are set per (premise,
    hypothesis) by ``rules`` (see ``tests/scripted.py``); ``.seen`` lists what it was asked."""
    from scripted import ScriptedNLIModel

    return lambda rules=(), **kwargs: ScriptedNLIModel(tiny_model_dir, rules, **kwargs)


@pytest.fixture(scope="session")
def seed_article() -> Path:
    """The seed news article from ../shared/seeds (present in CI, absent in a fresh clone)."""
    files = sorted(SEED_ARTICLE_DIR.glob("*.txt")) if SEED_ARTICLE_DIR.is_dir() else []
    if not files:
        pytest.skip(f"seed article not found in {SEED_ARTICLE_DIR}: it ships beside the project in CI only")
    return files[0]


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    from nli_check.errors import NLICheckError
    from nli_check.models import default_model_path

    try:
        return default_model_path()
    except NLICheckError as exc:
        pytest.skip(str(exc))


def build_constant_nli_model(path: Path, label: str = "contradiction") -> Path:
    """A tiny NLI model whose classifier ignores its input and always predicts ``label``
    (zero weights, a large bias on that class): deterministic verdicts without training."""
    import torch
    from transformers import BertForSequenceClassification

    build_tiny_nli_model(path)
    model = BertForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[model.config.label2id[label]] = 8.0
    model.save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture(scope="session")
def contradiction_model_dir(tmp_path_factory) -> Path:
    """A tiny model that calls every pair a contradiction (confidence ~0.999)."""
    return build_constant_nli_model(tmp_path_factory.mktemp("always-contradiction"))


# ---------------------------------------------------------------------------- a claim and its source
#: A draft sentence and the source sentence that disputes it, each beside an unrelated sentence.
DRAFT = Document(
    "draft.txt",
    "Russia is withdrawing its troops from the Ukrainian border. "
    "The football final ended in a draw after extra time.",
)
SOURCE = Document(
    "source.txt",
    "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border. "
    "Bananas are a good source of potassium.",
)


@pytest.fixture(scope="session")
def embedder():
    """The default pairing embedder on CPU (a test module may override it)."""
    from nli_check.embed import Embedder

    return Embedder(device="cpu")
