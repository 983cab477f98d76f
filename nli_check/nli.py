"""``NLIModel``: any Hugging Face sequence-classification NLI model, loaded safely and run fast.

Labels come from the model's ``config.id2label``; probabilities are always returned in the
canonical order :data:`nli_check.labels.LABELS` (contradiction, entailment, neutral).

Two backends run the same batching loop and differ only in the forward call: ``torch``
(fp32, bf16 autocast on CUDA, or int8 dynamic quantisation of the Linear layers on CPU) and
``onnx`` (ONNX Runtime on CPU, fp32 or int8 dynamic quantisation of the exported graph). The
ONNX export is made once per model and cached under :func:`onnx_cache_dir`, keyed by a hash of
the model's config and weights. ``backend="auto"`` and ``quantize="auto"`` pick
:func:`default_mode`: the fastest mode that kept accuracy on the dev sample (``scripts/bench.py``).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, map_model_labels
from nli_check.progress import progress_bar

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
#: Logit given to a class the model does not have (a two-way model's neutral).
_ABSENT_LOGIT = -1e4
#: Inference backends; "auto" picks :func:`default_mode`.
BACKENDS = ("torch", "onnx")
#: Quantisation modes; "auto" picks :func:`default_mode`.
QUANTIZATIONS = ("int8", "none")
#: ONNX opset of exported graphs (part of the cache key: a new opset exports again).
ONNX_OPSET = 17
ONNX_INSTALL_HINT = "pip install onnxruntime onnx (both are dependencies of nli-check)"


@dataclass(frozen=True)
class NLIResult:
    """The model's verdict on one (premise, hypothesis) pair."""

    label: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    #: How many premise windows the pair was split into (1 when it fitted the model).
    windows: int = 1

    @property
    def contradiction(self) -> float:
        return self.probabilities.get(CONTRADICTION, 0.0)

    @property
    def entailment(self) -> float:
        return self.probabilities.get(ENTAILMENT, 0.0)

    @property
    def neutral(self) -> float:
        return self.probabilities.get(NEUTRAL, 0.0)


def _is_local(path: str | os.PathLike) -> bool:
    return Path(path).expanduser().exists()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


class NLIModel:
    """An NLI classifier: premise/hypothesis pairs in, calibrated label probabilities out.

    ``model_name_or_path`` is a local directory or a hub id (hub ids need a network, and are
    refused offline with ``HF_HUB_OFFLINE=1``). ``None`` loads nli-check's shipped default
    model. Only safetensors weights are loaded and remote code is never run unless
    ``trust_remote_code=True``.

    ``backend`` is ``torch`` or ``onnx`` (ONNX Runtime, CPU; installed with nli-check)
    and ``quantize`` is ``int8`` or ``None``; ``"auto"`` for either picks :func:`default_mode`.
    Labels, windowing and temperature are the same whatever the backend.

    Example::

        model = NLIModel()
        [result] = model.predict([("Troops are leaving the border.", "Troops are staying.")])
        result.label, result.confidence
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike | None = None,
        *,
        device: str | None = "auto",
        max_length: int | None = None,
        local_files_only: bool | None = None,
        trust_remote_code: bool = False,
        temperature: float | None = None,
        quantize: str | None = None,
        backend: str = "torch",
    ) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        from nli_check.devices import resolve_device

        if model_name_or_path is None:
            from nli_check.models import default_model_path

            model_name_or_path = default_model_path()
        source = str(model_name_or_path)
        local = _is_local(source)
        if local:
            path = Path(source).expanduser()
            if not path.is_dir():
                raise NLICheckError(f"model {source} is a file: give the directory that holds config.json")
            if not (path / "config.json").exists():
                raise NLICheckError(
                    f"{source} holds no config.json: give a Hugging Face model directory "
                    "(config.json, tokenizer and model.safetensors)"
                )
            if not any(path.glob("*.safetensors")):
                raise NLICheckError(
                    f"{source} has no .safetensors weights: nli-check loads only safetensors; "
                    "convert the checkpoint with save_pretrained(safe_serialization=True)"
                )
            source = str(path)
        elif local_files_only is None and _offline():
            local_files_only = True
        unreachable = False
        if not local and not local_files_only:
            from nli_check.models import hub_reachable

            if not hub_reachable():  # fail in seconds, not after the hub client's retries
                logger.info("The Hugging Face hub is unreachable: looking for %s in the hub cache only", source)
                local_files_only = unreachable = True
        if local_files_only is None:
            local_files_only = local
        self.name = source
        self.device = resolve_device(device)

        load_kwargs = dict(local_files_only=local_files_only, trust_remote_code=trust_remote_code)
        try:
            config = AutoConfig.from_pretrained(source, **load_kwargs)
        except (OSError, ValueError) as exc:
            from nli_check.models import OFFLINE_HINT

            if local:
                raise NLICheckError(
                    f"cannot load model {source!r} (its config.json is unreadable): give a local model directory"
                ) from exc
            if unreachable:
                why = "no such directory, the Hugging Face hub is unreachable, and the hub cache has no copy"
            elif local_files_only:
                why = "no such directory, and HF_HUB_OFFLINE is set but the hub cache has no copy"
            else:
                why = f"no such directory or hub model: {str(exc).splitlines()[0] if str(exc) else exc}"
            raise NLICheckError(f"cannot load model {source!r} ({why}): {OFFLINE_HINT}") from exc
        self.label_index = map_model_labels(getattr(config, "id2label", None), source=f"model {source}")
        self.backend, self.quantize = resolve_mode(backend, quantize, self.device)
        if self.quantize == "int8" and self.device.type != "cpu":
            raise NLICheckError("--quantize int8 runs on the CPU only: drop it or use --device cpu")
        if self.backend == "onnx":
            if self.device.type != "cpu":
                raise NLICheckError(
                    "--backend onnx runs on the CPU only: use --backend torch on a GPU"
                )
            _import_onnxruntime()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, **load_kwargs)
        except (OSError, ValueError) as exc:
            raise NLICheckError(f"cannot load model {source!r}: {str(exc).splitlines()[0]}") from exc
        self._input_names = ["input_ids", "attention_mask"]
        if "token_type_ids" in self.tokenizer.model_input_names:
            self._input_names.append("token_type_ids")

        def load_torch(**extra):
            try:
                return AutoModelForSequenceClassification.from_pretrained(
                    source, config=config, use_safetensors=True, dtype=torch.float32,
                    **load_kwargs, **extra,
                ).eval()
            except (OSError, ValueError) as exc:
                raise NLICheckError(f"cannot load model {source!r}: {str(exc).splitlines()[0]}") from exc

        if self.backend == "torch":
            self.model = load_torch()
            if self.quantize == "int8":
                self.model = _quantize_torch(self.model)
            self.model.to(self.device)
            self._forward = _TorchForward(self.model, self.device, self._input_names)
        else:
            self.model = None
            self.onnx_path = _onnx_model(
                source if local else None, config, self._input_names, self.quantize, load_torch
            )
            self._forward = _OnnxForward(self.onnx_path, self._input_names)

        model_max = getattr(config, "max_position_embeddings", 512) or 512
        tok_max = getattr(self.tokenizer, "model_max_length", model_max) or model_max
        self.max_length = int(min(max_length or 256, model_max, tok_max))
        if self.max_length < 16:
            raise NLICheckError(f"max_length {self.max_length} is too small: use at least 16")
        self._num_special = self.tokenizer.num_special_tokens_to_add(pair=True)
        self._uses_token_types = "token_type_ids" in self._input_names

        if temperature is None and local:
            temperature = read_calibration(source).get("temperature")
        self.temperature = float(temperature) if temperature else 1.0
        if self.temperature <= 0:
            raise NLICheckError(f"temperature must be positive, got {self.temperature}")

    # ------------------------------------------------------------------ inference
    def predict(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        batch_size: int = 64,
        max_tokens: int | None = None,
        show_progress: bool = False,
    ) -> list[NLIResult]:
        """Label each (premise, hypothesis) pair; results come back in input order."""
        probs, windows = self._predict(pairs, batch_size, max_tokens, show_progress)
        results = []
        for row, count in zip(probs, windows):
            best = int(np.argmax(row))
            results.append(
                NLIResult(
                    label=LABELS[best],
                    confidence=float(row[best]),
                    probabilities={name: float(p) for name, p in zip(LABELS, row)},
                    windows=count,
                )
            )
        return results

    def predict_proba(self, pairs: Sequence[tuple[str, str]], **kwargs) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(pairs), 3)``, columns in :data:`LABELS` order."""
        return self._predict(pairs, kwargs.get("batch_size", 64), kwargs.get("max_tokens"),
                             kwargs.get("show_progress", False))[0]

    def predict_logits(self, pairs: Sequence[tuple[str, str]], **kwargs) -> np.ndarray:
        """Uncalibrated logits in :data:`LABELS` order (no windowing: for calibration and eval)."""
        items = [(str(p), str(h)) for p, h in pairs]
        return self._run(items, kwargs.get("batch_size", 64), kwargs.get("max_tokens"),
                         kwargs.get("show_progress", False), apply_temperature=False)

    def _predict(self, pairs, batch_size, max_tokens, show_progress):
        pairs = [(str(p), str(h)) for p, h in pairs]
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32), []
        expanded, owner = [], []
        windows = []
        # Token counts of all texts in one batched call; only pairs that do not fit are windowed.
        room = self.max_length - self._num_special
        counts = [
            [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]]
            for texts in ([p for p, _ in pairs], [h for _, h in pairs])
        ]
        for index, (premise, hypothesis) in enumerate(pairs):
            fits = counts[0][index] + counts[1][index] <= room
            parts = [(premise, hypothesis)] if fits else self.windows(premise, hypothesis)
            windows.append(len(parts))
            expanded.extend(parts)
            owner.extend([index] * len(parts))
        logits = self._run(expanded, batch_size, max_tokens, show_progress, apply_temperature=True)
        probs = _softmax(logits)
        if len(expanded) == len(pairs):
            return probs, windows
        # Several windows for a pair: keep the window whose verdict is most decided, so a
        # contradiction or support anywhere in long evidence is found, not averaged away.
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        best_score = np.full(len(pairs), -1.0)
        decisive = np.maximum(probs[:, 0], probs[:, 1])
        for row, index in enumerate(owner):
            if decisive[row] > best_score[index]:
                best_score[index] = decisive[row]
                out[index] = probs[row]
        return out, windows

    def windows(self, premise: str, hypothesis: str, stride_fraction: float = 0.5) -> list[tuple[str, str]]:
        """Split a pair that does not fit the model into overlapping windows (:func:`window_pair`)."""
        return window_pair(self.tokenizer, premise, hypothesis, self.max_length, stride_fraction)

    def _run(self, pairs, batch_size, max_tokens, show_progress, apply_temperature):
        """Logits in :data:`LABELS` order: tokenise all pairs, sort them by length, cut the order
        into batches under a token budget, run each through the backend, restore input order."""
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        enc = self.tokenizer(
            [p for p, _ in pairs], [h for _, h in pairs], truncation=True, max_length=self.max_length
        )
        ids = enc["input_ids"]
        types = enc.get("token_type_ids") if self._uses_token_types else None
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        budget = max_tokens or batch_size * 128
        if max_tokens is None and self.device.type == "cpu" and CPU_TOKEN_BUDGET:
            budget = min(budget, CPU_TOKEN_BUDGET)  # small batches stay in the CPU's caches
        batches = length_batches(lengths, batch_size, max(budget, self.max_length))

        pad_id = self.tokenizer.pad_token_id or 0
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        with progress_bar(len(pairs), "Classifying", "pair", enabled=show_progress) as progress:
            for batch in batches:
                inputs = pad_batch(ids, lengths, batch, pad_id, types)
                out[batch] = self._canonical(self._forward(inputs))
                progress.update(len(batch))
        if apply_temperature and self.temperature != 1.0:
            out = out / self.temperature
        return out

    def _canonical(self, logits: np.ndarray) -> np.ndarray:
        """Logits in :data:`LABELS` order; a class the model lacks gets a very low logit."""
        out = np.full((len(logits), len(LABELS)), _ABSENT_LOGIT, dtype=np.float32)
        for column, name in enumerate(LABELS):
            index = self.label_index.get(name)
            if index is not None:
                out[:, column] = logits[:, index]
        return out

    # ------------------------------------------------------------------ saving
    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Save weights (safetensors), tokenizer and calibration to a model directory."""
        if self.quantize:
            raise NLICheckError("a quantized model cannot be saved: load it without --quantize")
        if self.model is None:
            raise NLICheckError(
                "an ONNX-backed model cannot be saved: load it with backend='torch'"
            )
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        if self.temperature != 1.0:
            write_calibration(path, {"temperature": self.temperature})

    def __repr__(self) -> str:
        mode = self.backend + (f", {self.quantize}" if self.quantize else "")
        return (
            f"NLIModel({self.name!r}, device={str(self.device)!r}, backend={mode!r}, "
            f"temperature={self.temperature:.3f})"
        )


def window_pair(tokenizer, premise: str, hypothesis: str, max_length: int,
                stride_fraction: float = 0.5) -> list[tuple[str, str]]:
    """Split a pair that does not fit ``max_length`` tokens into overlapping windows of whole tokens.

    The hypothesis is kept whole where it fits in half the window; the premise (evidence) is
    cut into overlapping spans. Each window is an exact substring of the original text. Inference
    and training window long evidence with this one function.
    """
    p_enc = tokenizer(premise, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    h_enc = tokenizer(hypothesis, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    return windows_from_offsets(premise, hypothesis, p_enc["offset_mapping"], h_enc["offset_mapping"], room,
                                stride_fraction)


def windows_from_offsets(premise: str, hypothesis: str, p_offsets, h_offsets, room: int,
                         stride_fraction: float = 0.5) -> list[tuple[str, str]]:
    """:func:`window_pair` on texts already tokenised (token character offsets, no special tokens);
    ``room`` is the window's token count less the special tokens."""
    p_len, h_len = len(p_offsets), len(h_offsets)
    if p_len + h_len <= room:
        return [(premise, hypothesis)]
    hyp_parts = [hypothesis]
    hyp_room = h_len
    if h_len > room // 2:
        hyp_room = room // 2
        hyp_parts = _spans(hypothesis, h_offsets, hyp_room, stride_fraction)
    prem_room = room - hyp_room
    prem_parts = _spans(premise, p_offsets, prem_room, stride_fraction)
    return [(p, h) for h in hyp_parts for p in prem_parts]


def pad_batch(ids, lengths: np.ndarray, batch: np.ndarray, pad_id: int, types=None) -> list[np.ndarray]:
    """The model inputs of ``batch`` (indices into ``ids``): token ids right-padded with
    ``pad_id`` to the batch's longest, the attention mask, and the token type ids when
    ``types`` is given."""
    width = int(lengths[batch].max())
    input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    token_types = np.zeros((len(batch), width), dtype=np.int64) if types is not None else None
    for row, index in enumerate(batch):
        n = int(lengths[index])
        input_ids[row, :n] = ids[index]
        mask[row, :n] = 1
        if token_types is not None:
            token_types[row, :n] = types[index]
    return [input_ids, mask] + ([token_types] if token_types is not None else [])


def length_batches(lengths: np.ndarray, batch_size: int, budget: int) -> list[np.ndarray]:
    """Indices into ``lengths`` cut into batches, longest first: each batch holds at most
    ``batch_size`` items and, padded to its longest, at most ``budget`` tokens (one item when
    a single item exceeds it)."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches, start = [], 0
    while start < len(order):
        longest = int(lengths[order[start]])
        count = max(1, min(batch_size, budget // max(longest, 1)))
        batches.append(order[start : start + count])
        start += count
    return batches


def _spans(text: str, offsets, room: int, stride_fraction: float) -> list[str]:
    step = max(1, int(room * stride_fraction))
    parts = []
    start = 0
    while True:
        end = min(start + room, len(offsets))
        parts.append(text[offsets[start][0] : offsets[end - 1][1]])
        if end >= len(offsets):
            break
        start += step
    return parts


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


# ---------------------------------------------------------------------------- modes
#: What ``quantize="auto"`` means on the CPU, per backend. int8 is a default only where it kept
#: accuracy within 0.5 points of fp32 on the dev sample of ``scripts/bench.py`` (docs/bench-cpu.json).
CPU_DEFAULT_QUANTIZE: dict[str, str | None] = {"onnx": "int8", "torch": None}


def onnxruntime_available() -> bool:
    """Whether ONNX Runtime can be imported (a dependency of nli-check, but perhaps removed)."""
    import importlib.util

    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except ValueError:  # a module entry without a spec
        return False


def _is_cpu(device) -> bool:
    return device is None or getattr(device, "type", str(device).split(":")[0]) == "cpu"


def default_mode(device=None) -> tuple[str, str | None]:
    """``(backend, quantize)`` used for ``"auto"``: the fastest mode that kept accuracy.

    On a GPU: torch (bf16 autocast). On the CPU: ONNX Runtime where it is installed (else
    torch), quantised as :data:`CPU_DEFAULT_QUANTIZE` says for that backend.
    """
    if not _is_cpu(device):
        return "torch", None
    backend = "onnx" if onnxruntime_available() else "torch"
    return backend, CPU_DEFAULT_QUANTIZE[backend]


def resolve_mode(backend: str | None, quantize: str | None, device=None) -> tuple[str, str | None]:
    """Validate ``backend`` and ``quantize`` and resolve ``"auto"``; ``"none"`` becomes ``None``."""
    backend = (backend or "torch").lower()
    quantize = None if quantize is None else str(quantize).lower()
    if backend not in (*BACKENDS, "auto"):
        raise NLICheckError(f"unknown backend {backend!r}: use torch, onnx or auto")
    if quantize not in (None, *QUANTIZATIONS, "auto"):
        raise NLICheckError(f"unknown quantization {quantize!r}: use int8, none or auto")
    if backend == "auto":
        backend = default_mode(device)[0]
    if quantize == "auto":
        quantize = CPU_DEFAULT_QUANTIZE.get(backend) if _is_cpu(device) else None
    quantize = None if quantize == "none" else quantize
    return backend, quantize


def cpu_threads() -> int:
    """Threads for CPU inference: torch's intra-op count (physical cores, or OMP_NUM_THREADS)."""
    import torch

    return max(1, torch.get_num_threads())


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise NLICheckError(
            f"the onnx backend needs ONNX Runtime, which is not installed: {ONNX_INSTALL_HINT}, "
            "or use --backend torch"
        ) from None
    return onnxruntime


def _quantize_torch(model):
    """int8 dynamic quantisation of the Linear layers (int8 weights, activations per batch)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class _TorchForward:
    """The torch backend's forward call: int64 arrays in, float32 logits (model order) out."""

    def __init__(self, model, device, names: list[str]) -> None:
        self.model, self.device, self.names = model, device, names

    def __call__(self, arrays: list[np.ndarray]) -> np.ndarray:
        import torch

        cuda = self.device.type == "cuda"
        with torch.inference_mode():
            inputs = {
                name: torch.from_numpy(array).to(self.device, non_blocking=cuda)
                for name, array in zip(self.names, arrays)
            }
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                logits = self.model(**inputs).logits
            return logits.float().cpu().numpy()


class _OnnxForward:
    """The ONNX Runtime backend's forward call, on the CPU with :func:`cpu_threads` threads."""

    def __init__(self, path: Path, names: list[str], output: str = "logits") -> None:
        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise NLICheckError(
                f"cannot load the ONNX model {path}: {str(exc).splitlines()[0]}; "
                "delete it to export again"
            ) from exc
        self.names, self.output = names, output

    def __call__(self, arrays: list[np.ndarray]) -> np.ndarray:
        result = self.session.run([self.output], dict(zip(self.names, arrays)))[0]
        return np.asarray(result, dtype=np.float32)


# ---------------------------------------------------------------------------- ONNX export
def onnx_cache_dir() -> Path:
    """Where exported ONNX models are kept: ``$NLI_CHECK_CACHE/onnx``, else
    ``$XDG_CACHE_HOME/nli-check/onnx``, else ``~/.cache/nli-check/onnx``."""
    root = os.environ.get("NLI_CHECK_CACHE")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nli-check"
    return Path(root).expanduser() / "onnx"


def _files_key(model_dir: Path) -> str:
    """A hash of a model directory's config and safetensors weights."""
    import hashlib

    digest = hashlib.sha256()
    for path in [model_dir / "config.json", *sorted(model_dir.glob("*.safetensors"))]:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:20]


def _state_key(model) -> str:
    """A hash of a loaded model's config and weights (for hub models, whose files are not ours)."""
    import hashlib

    digest = hashlib.sha256(model.config.to_json_string().encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + b"\0")
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def _onnx_model(
    model_dir: str | None, config, names: list[str], quantize: str | None, load_torch,
    *, stem: str = "model", wrap=None, output: str = "logits",
) -> Path:
    """The cached ONNX graph for this model (int8 when ``quantize == "int8"``), exported and
    quantised on first use. ``load_torch(**kwargs)`` loads the torch model when one is needed;
    ``wrap(model, names)`` gives the module to export (default: the model's logits), whose one
    output is named ``output``; ``stem`` names the graph's file in the model's cache folder."""
    key = _files_key(Path(model_dir)) if model_dir else _state_key(load_torch())
    folder = onnx_cache_dir() / key
    fp32 = folder / f"{stem}-opset{ONNX_OPSET}.onnx"
    int8 = folder / f"{stem}-opset{ONNX_OPSET}-int8{'-perchannel' if QUANTIZE_PER_CHANNEL else ''}.onnx"
    target = int8 if quantize == "int8" else fp32
    if target.exists():
        logger.debug("Using the cached ONNX model %s", target)
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NLICheckError(
            f"cannot create the ONNX cache {folder} ({exc.strerror}): "
            "set NLI_CHECK_CACHE to a writable folder"
        ) from exc
    _announce_preparation(folder.parent)
    if not fp32.exists():
        logger.debug("Exporting %s to ONNX (once per model): %s", model_dir or "the model", fp32)
        # Eager attention exports as plain ops, which ONNX Runtime fuses into its Attention kernel.
        _export_onnx(load_torch(attn_implementation="eager"), names, fp32, wrap=wrap, output=output)
    if quantize == "int8":
        logger.debug("Quantising the ONNX model to int8 (once per model): %s", int8)
        _quantize_onnx(fp32, int8)
    (folder / "source.json").write_text(
        json.dumps({"model": getattr(config, "_name_or_path", None) or model_dir, "inputs": names}) + "\n",
        encoding="utf-8",
    )
    return target


_PREPARING_ANNOUNCED: list[bool] = []


def _announce_preparation(cache: Path) -> None:
    """One line, once per process, for the one-off ONNX export and quantisation."""
    if not _PREPARING_ANNOUNCED:
        _PREPARING_ANNOUNCED.append(True)
        logger.info("Preparing the CPU model once, about 15 s (kept in %s for later runs)", cache)


class _QuietQuantiser(logging.Filter):
    """Drops the quantiser's own log records (one or more per tensor it leaves alone), which
    ONNX Runtime writes to the root logger; -vv shows them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logger.isEnabledFor(logging.DEBUG):
            return True
        path = record.pathname.replace("\\", "/")
        return "/onnxruntime/" not in path and "/onnx/" not in path


def _export_onnx(model, names: list[str], path: Path, *, wrap=None, output: str = "logits") -> None:
    import warnings

    import torch

    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise NLICheckError(
            f"exporting to ONNX needs the onnx package: {ONNX_INSTALL_HINT}"
        ) from None

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors))).logits

    wrapper = (wrap(model, names) if wrap else LogitsOnly(model)).eval()
    # A padded row in the example batch, so the traced graph keeps the attention-mask path.
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    example = {"input_ids": torch.full((2, 8), 1000) * mask, "attention_mask": mask,
               "token_type_ids": torch.tensor([[0] * 4 + [1] * 4, [0] * 3 + [1] * 2 + [0] * 3])}
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes[output] = {0: "batch"}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python code
            torch.onnx.export(
                wrapper, tuple(example[name] for name in names), str(tmp), input_names=names,
                output_names=[output], dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False,
            )
        os.replace(tmp, path)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, NLICheckError):
            raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise NLICheckError(
            f"cannot export the model to ONNX ({type(exc).__name__}: {first_line}): "
            "use --backend torch"
        ) from exc


def _quantize_onnx(source: Path, target: Path) -> None:
    """int8 dynamic quantisation of the graph's MatMul/Attention weights (per output channel)."""
    _import_onnxruntime()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = target.with_name(f"{target.name}.{os.getpid()}.pre.tmp")
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    quiet = _QuietQuantiser()
    logging.root.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
            quantize_dynamic(
                str(pre), str(tmp), weight_type=QuantType.QInt8, per_channel=QUANTIZE_PER_CHANNEL,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        os.replace(tmp, target)
    finally:
        logging.root.removeFilter(quiet)
        pre.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


#: Token budget of a CPU batch when ``max_tokens`` is not given (``None``: ``batch_size * 128``).
#: Small batches stay in the CPU's caches: on 2 cores, ONNX Runtime int8 ran 1.25x faster at
#: 1,024 tokens a batch than at 8,192 (fp32 1.35x); the embedder likewise.
CPU_TOKEN_BUDGET: int | None = 1024

#: Per-channel int8 weights for the ONNX graph (set from the accuracy measured by scripts/bench.py).
QUANTIZE_PER_CHANNEL = True


def read_calibration(model_dir: str | os.PathLike) -> dict:
    path = Path(model_dir) / CALIBRATION_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NLICheckError(f"{path} is not valid JSON: delete it or run nli-check calibrate again") from exc


def write_calibration(model_dir: str | os.PathLike, data: dict) -> Path:
    path = Path(model_dir) / CALIBRATION_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
