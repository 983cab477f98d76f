"""nli-check: find where texts contradict each other.

The public API is imported lazily, so ``import nli_check`` is instant::

    from nli_check import check, NLIModel
    result = check(["draft.txt"], evidence=["sources/"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Archive": "nli_check.archive",
    "ArchiveFilter": "nli_check.archive",
    "NLIModel": "nli_check.nli",
    "NLIResult": "nli_check.nli",
    "NLICheckError": "nli_check.errors",
    "Sentence": "nli_check.types",
    "Document": "nli_check.types",
    "Finding": "nli_check.types",
    "CheckResult": "nli_check.types",
    "CheckSettings": "nli_check.types",
    "ClaimVerdict": "nli_check.types",
    "VERDICTS": "nli_check.types",
    "Embedder": "nli_check.embed",
    "check": "nli_check.pipeline",
    "segment": "nli_check.text",
    "resolve_device": "nli_check.devices",
    "TrainConfig": "nli_check.training",
    "train": "nli_check.training",
    "evaluate": "nli_check.evaluation",
    "calibrate": "nli_check.calibration",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from nli_check.archive import Archive, ArchiveFilter  # noqa: F401
    from nli_check.errors import NLICheckError  # noqa: F401
    from nli_check.nli import NLIModel, NLIResult  # noqa: F401
    from nli_check.types import (  # noqa: F401
        VERDICTS,
        CheckResult,
        CheckSettings,
        ClaimVerdict,
        Document,
        Finding,
        Sentence,
    )


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nli_check' has no attribute {name!r}")
