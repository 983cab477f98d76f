"""scan's output files are created with the mode the umask gives any new file."""

from __future__ import annotations

import os
import stat

from nli_check.scan import scan

from .helpers import config


def test_summary_and_shards_honour_the_umask(baseline, archive, contra_model_dir, tmp_path):
    _, _, store = baseline  # the baseline's embeddings are reused: only pairing and NLI run
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        scan(config(archive, out, contra_model_dir, store))
    finally:
        os.umask(old)
    written = [out / "summary.json", *sorted((out / "conflicts").iterdir())]
    assert len(written) > 2
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written if p.is_file()}
    assert set(modes.values()) == {"0o644"}, modes
