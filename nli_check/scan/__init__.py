"""``scan``: mine contradictions across an archive of articles.

Stages (each a module): :mod:`~nli_check.scan.reader` streams records,
:mod:`~nli_check.scan.store` keeps sentences and embeddings on disk,
:mod:`~nli_check.scan.search` finds candidate pairs, :mod:`~nli_check.scan.stages` segments
and classifies, :mod:`~nli_check.scan.output` writes conflict shards; the local engine
(:mod:`~nli_check.scan.engine`) and the Ray engine (:mod:`~nli_check.scan.ray_engine`) run them.

Example::

    from nli_check.scan import ScanConfig, scan, read_conflicts
    summary = scan(ScanConfig(archives=("news.jsonl",), output="out/"))
    rows = read_conflicts("out/")
"""

from __future__ import annotations

from nli_check.scan.config import ScanConfig
from nli_check.scan.engine import scan
from nli_check.scan.output import read_conflicts
from nli_check.scan.reader import FieldMap, read_archive
from nli_check.scan.search import SearchSettings

__all__ = ["FieldMap", "ScanConfig", "SearchSettings", "read_archive", "read_conflicts", "scan"]
