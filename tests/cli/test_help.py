"""``--help`` is instant: it never imports torch (nor, for the command list, transformers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO

from nli_check.cli import COMMANDS

HEAVY = ("torch", "transformers", "sentence_transformers", "onnxruntime", "ray")
SCRIPT = """
import json, sys
from nli_check.cli import cli
loaded = {}
for args in json.loads(sys.argv[1]):
    try:
        cli.main(args, prog_name="nli-check")
    except SystemExit as exit:
        assert exit.code == 0, (args, exit.code)
    loaded[" ".join(args)] = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps(loaded), file=sys.stderr)
"""


def test_help_never_imports_torch():
    calls = [["--help"], *([name, "--help"] for name in COMMANDS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(calls), json.dumps(HEAVY)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Commands:" in proc.stdout and all(f"nli-check {name}" in proc.stdout for name in COMMANDS)
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    assert loaded["--help"] == []  # listing the commands imports no model library at all
    assert all("torch" not in modules for modules in loaded.values()), loaded
