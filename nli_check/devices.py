"""The one place where a device string becomes a ``torch.device``."""

from __future__ import annotations

import logging
import re

from nli_check.errors import NLICheckError

logger = logging.getLogger(__name__)

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
#: What a device may be called, for messages.
DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"


def valid_device(spec: str | None) -> bool:
    """Whether ``spec`` names a device :func:`resolve_device` understands (present or not)."""
    return bool(_DEVICE_RE.match((spec or "auto").strip().lower()))


_ANNOUNCED: set[str] = set()


def _announce(message: str) -> None:
    """Log the device ``auto`` picked, once per process (every model resolves it)."""
    if message not in _ANNOUNCED:
        _ANNOUNCED.add(message)
        logger.info(message)


def resolve_device(spec: str | None = "auto"):
    """Turn ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` into a ``torch.device``.

    ``auto`` picks the first CUDA GPU when one is visible and the CPU otherwise, and logs
    the choice. Asking for CUDA where there is none is an error, never a silent fallback.
    """
    import torch

    spec = (spec or "auto").strip().lower()
    if not _DEVICE_RE.match(spec):
        raise NLICheckError(f"unknown device {spec!r}: use auto, cpu, cuda or cuda:N")
    if spec == "auto":
        if torch.cuda.is_available():
            device = torch.device("cuda", torch.cuda.current_device())
            _announce(f"Using {device} ({torch.cuda.get_device_name(device)})")
            return device
        _announce("Using cpu (no CUDA GPU visible)")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise NLICheckError(f"--device {spec} was asked for but no CUDA GPU is visible: use --device cpu")
    device = torch.device(spec)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise NLICheckError(
            f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) visible; "
            f"use cuda:0 to cuda:{torch.cuda.device_count() - 1}"
        )
    return device
