"""``NLIModel``: any Hugging Face sequence-classification NLI model, loaded safely and run fast.

Labels come from the model's ``config.id2label``; probabilities are always returned in the
canonical order :data:`nli_check.labels.LABELS` (contradiction, entailment, neutral).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, map_model_labels

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
#: Logit given to a class the model does not have (a two-way model's neutral).
_ABSENT_LOGIT = -1e4


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
        if local_files_only is None:
            local_files_only = local
        self.name = source
        self.device = resolve_device(device)

        load_kwargs = dict(local_files_only=local_files_only, trust_remote_code=trust_remote_code)
        try:
            config = AutoConfig.from_pretrained(source, **load_kwargs)
        except (OSError, ValueError) as exc:
            hint = (
                "no such directory, and the hub is offline" if not local else "its config.json is unreadable"
            )
            raise NLICheckError(f"cannot load model {source!r} ({hint}): give a local model directory") from exc
        self.label_index = map_model_labels(getattr(config, "id2label", None), source=f"model {source}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, **load_kwargs)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                source, config=config, use_safetensors=True, dtype=torch.float32, **load_kwargs
            )
        except (OSError, ValueError) as exc:
            raise NLICheckError(f"cannot load model {source!r}: {str(exc).splitlines()[0]}") from exc
        self.model.eval()
        self.quantize = quantize
        if quantize == "int8":
            if self.device.type != "cpu":
                raise NLICheckError("--quantize int8 runs on the CPU only: drop it or use --device cpu")
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model, {torch.nn.Linear}, dtype=torch.qint8
            )
        elif quantize not in (None, "none"):
            raise NLICheckError(f"unknown quantization {quantize!r}: use int8 or none")
        self.model.to(self.device)

        model_max = getattr(config, "max_position_embeddings", 512) or 512
        tok_max = getattr(self.tokenizer, "model_max_length", model_max) or model_max
        self.max_length = int(min(max_length or 256, model_max, tok_max))
        if self.max_length < 16:
            raise NLICheckError(f"max_length {self.max_length} is too small: use at least 16")
        self._num_special = self.tokenizer.num_special_tokens_to_add(pair=True)
        self._uses_token_types = "token_type_ids" in self.tokenizer.model_input_names

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
        for index, (premise, hypothesis) in enumerate(pairs):
            parts = self.windows(premise, hypothesis)
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
        """Split a pair that does not fit the model into overlapping windows of whole tokens.

        The hypothesis is kept whole where it fits in half the window; the premise (evidence) is
        cut into overlapping spans. Each window is an exact substring of the original text.
        """
        tok = self.tokenizer
        p_enc = tok(premise, add_special_tokens=False, return_offsets_mapping=True)
        h_enc = tok(hypothesis, add_special_tokens=False, return_offsets_mapping=True)
        p_len, h_len = len(p_enc["input_ids"]), len(h_enc["input_ids"])
        room = self.max_length - self._num_special
        if p_len + h_len <= room:
            return [(premise, hypothesis)]
        hyp_parts = [hypothesis]
        hyp_room = h_len
        if h_len > room // 2:
            hyp_room = room // 2
            hyp_parts = _spans(hypothesis, h_enc["offset_mapping"], hyp_room, stride_fraction)
        prem_room = room - hyp_room
        prem_parts = _spans(premise, p_enc["offset_mapping"], prem_room, stride_fraction)
        return [(p, h) for h in hyp_parts for p in prem_parts]

    def _run(self, pairs, batch_size, max_tokens, show_progress, apply_temperature):
        import torch

        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        enc = self.tokenizer(
            [p for p, _ in pairs], [h for _, h in pairs], truncation=True, max_length=self.max_length
        )
        ids = enc["input_ids"]
        types = enc.get("token_type_ids") if self._uses_token_types else None
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")
        budget = max_tokens or max(batch_size * 128, self.max_length)
        batches: list[np.ndarray] = []
        start = 0
        while start < len(order):
            longest = int(lengths[order[start]])
            count = max(1, min(batch_size, budget // max(longest, 1)))
            batches.append(order[start : start + count])
            start += count

        pad_id = self.tokenizer.pad_token_id or 0
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        cuda = self.device.type == "cuda"
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(pairs), desc="NLI", unit="pair", leave=False)
        with torch.inference_mode():
            for batch in batches:
                width = int(lengths[batch].max())
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                token_types = torch.zeros((len(batch), width), dtype=torch.long) if types else None
                for row, index in enumerate(batch):
                    n = int(lengths[index])
                    input_ids[row, :n] = torch.as_tensor(ids[index])
                    mask[row, :n] = 1
                    if token_types is not None:
                        token_types[row, :n] = torch.as_tensor(types[index])
                inputs = {"input_ids": input_ids, "attention_mask": mask}
                if token_types is not None:
                    inputs["token_type_ids"] = token_types
                inputs = {k: v.to(self.device, non_blocking=True) for k, v in inputs.items()}
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                    logits = self.model(**inputs).logits.float()
                out[batch] = self._canonical(logits).cpu().numpy()
                if progress is not None:
                    progress.update(len(batch))
        if progress is not None:
            progress.close()
        if apply_temperature and self.temperature != 1.0:
            out = out / self.temperature
        return out

    def _canonical(self, logits):
        import torch

        cols = []
        for name in LABELS:
            index = self.label_index.get(name)
            if index is None:
                cols.append(torch.full_like(logits[:, 0], _ABSENT_LOGIT))
            else:
                cols.append(logits[:, index])
        return torch.stack(cols, dim=1)

    # ------------------------------------------------------------------ saving
    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Save weights (safetensors), tokenizer and calibration to a model directory."""
        if self.quantize:
            raise NLICheckError("a quantized model cannot be saved: load it without --quantize")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        if self.temperature != 1.0:
            write_calibration(path, {"temperature": self.temperature})

    def __repr__(self) -> str:
        return f"NLIModel({self.name!r}, device={str(self.device)!r}, temperature={self.temperature:.3f})"


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
