"""How the tests themselves run. CI cannot go green without its browser: ``.ci/run`` stops when
the browser set-up fails on CI (``CI=true``), and the browser tests fail there instead of
skipping; on a developer's machine both say the browser tests are skipped. And no test writes
to the user's caches."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

FAKE_MAKEFILE = """\
setup-dev lint test:
\techo $@ >> steps.log
"""


@pytest.fixture()
def ci_checkout(tmp_path):
    """A checkout with the real ``.ci/run``, a browser set-up that fails, and make targets that
    only log that they ran."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "install-browser.sh").write_text("echo 'no chromium here' >&2\nexit 1\n")
    (tmp_path / "Makefile").write_text(FAKE_MAKEFILE)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "activate").write_text("deactivate() { :; }\n")
    return tmp_path


def _ci_run(checkout, **env):
    env = {k: v for k, v in os.environ.items() if k != "CI"} | env
    return subprocess.run(["bash", str(checkout / ".ci" / "run")], capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_ci_run_fails_when_the_browser_cannot_be_set_up(ci_checkout):
    result = _ci_run(ci_checkout, CI="true")
    assert result.returncode != 0
    assert "browser set-up failed" in result.stderr
    assert (ci_checkout / "steps.log").read_text().split() == ["setup-dev"]  # no lint, no tests


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_developer_run_goes_on_without_the_browser(ci_checkout):
    result = _ci_run(ci_checkout)
    assert result.returncode == 0, result.stderr
    assert "the browser tests will say they are skipped" in result.stderr
    assert (ci_checkout / "steps.log").read_text().split() == ["setup-dev", "lint", "test"]


@pytest.mark.parametrize("ci, code, outcome", [("true", 1, "1 error"), (None, 0, "skipped")])
def test_browser_tests_fail_on_ci_and_skip_elsewhere_without_chromium(ci, code, outcome):
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"NLI_CHECK_CHROMIUM": "/nonexistent/chromium"}
    if ci:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_html_report.py", "-m", "browser", "-k", "hostile",
         "-p", "no:cacheprovider", "-q", "-rs"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == code, result.stdout[-2000:]
    assert outcome in result.stdout
    assert "no chromium binary" in result.stdout


def test_tests_keep_their_caches_out_of_the_users_home(tmp_path_factory):
    from pathlib import Path

    from nli_check.nli import onnx_cache_dir
    from nli_check.scan.store import default_store_dir

    session = tmp_path_factory.getbasetemp()
    for folder in (onnx_cache_dir(), default_store_dir(), Path(os.environ["HF_DATASETS_CACHE"])):
        assert folder.is_relative_to(session), folder
