#!/usr/bin/env bash
# Install what the browser tests (pytest -m browser) and scripts/screenshot_report.py need on
# a Debian machine: the distribution's chromium, and Playwright for Python in the active
# virtual environment. Idempotent: anything already installed is left as it is.
#
# Never runs `playwright install`: the tests launch /usr/bin/chromium through Playwright's
# executable_path instead of downloading a browser.
set -euo pipefail

say() { printf 'install-browser: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# 1. chromium from apt
if command -v chromium >/dev/null 2>&1; then
    say "chromium already installed: $(command -v chromium)"
elif command -v apt-get >/dev/null 2>&1; then
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    say "apt-get install -y chromium"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core >&2
else
    say "no chromium and no apt-get: install a chromium binary by hand (browser tests will skip)"
    exit 1
fi

# 2. playwright for Python, into the active environment
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    if [ -n "${VIRTUAL_ENV:-}" ]; then PYTHON="$VIRTUAL_ENV/bin/python"; else PYTHON="$(command -v python3 || command -v python)"; fi
fi
if "$PYTHON" -c 'import playwright' >/dev/null 2>&1; then
    say "playwright already installed for $PYTHON"
else
    say "$PYTHON -m pip install playwright"
    "$PYTHON" -m pip install --quiet 'playwright>=1.45' >&2
fi

# 3. check that the pair works
say "checking: $(chromium --version 2>/dev/null || echo 'chromium --version failed')"
CHROMIUM="$(command -v chromium)" "$PYTHON" - >&2 <<'PY'
import os
from playwright.sync_api import sync_playwright
args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=os.environ["CHROMIUM"], args=args)
    page = browser.new_page()
    page.set_content("<p id=x>ok</p>")
    assert page.inner_text("#x") == "ok"
    browser.close()
print("install-browser: playwright drives", os.environ["CHROMIUM"])
PY
