#!/usr/bin/env python
"""Take a PNG screenshot of an nli-check HTML report in headless Chromium.

    python scripts/screenshot_report.py report.html docs/report.png
    python scripts/screenshot_report.py report.html docs/report.png --select first --full-page

Uses Debian's ``chromium`` driven by Playwright (install both with
scripts/install-browser.sh; never ``playwright install``). Every request that is not for a
local file is aborted, so a screenshot also shows that the report is self-contained.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

log = logging.getLogger("screenshot_report")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium(explicit: str | None) -> str:
    for candidate in (explicit, shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("no chromium binary found: run scripts/install-browser.sh or pass --chromium")


def screenshot(
    html_path: Path,
    png_path: Path,
    *,
    width: int = 1400,
    height: int = 900,
    full_page: bool = False,
    select: str | None = "first",
    scale: float = 1.0,
    chromium: str | None = None,
) -> list[str]:
    """Write ``png_path``; return the URLs of any network requests the page attempted."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=scale
            )
            context.route("**/*", route)
            page = context.new_page()
            page.goto(html_path.resolve().as_uri())
            page.wait_for_load_state("load")
            if select:
                # "first": the first contradicted claim (else the first highlighted one);
                # anything else is a CSS selector to click.
                selector = select
                if select == "first":
                    selector = "mark.claim.first.is-contradiction"
                    if page.locator(selector).count() == 0:
                        selector = "mark.claim.first:not(.is-off)"
                target = page.locator(selector).first
                if target.count():
                    target.click()
                    page.evaluate("window.scrollTo(0, 0)")
                else:
                    log.warning("nothing matches %s: no claim selected", selector)
            page.wait_for_timeout(150)
            png_path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png_path), full_page=full_page)
        finally:
            browser.close()
    return blocked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path, help="the report to open")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2 = retina)")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the viewport")
    parser.add_argument(
        "--select",
        default="first",
        help="claim to open before the shot: 'first' (default), 'none', or a CSS selector",
    )
    parser.add_argument("--chromium", help="path to the chromium binary (default: on PATH)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    # 1. Check the input.
    if not args.html.is_file():
        parser.error(f"{args.html} is not a file")
    # 2. Open, select, shoot.
    blocked = screenshot(
        args.html,
        args.png,
        width=args.width,
        height=args.height,
        full_page=args.full_page,
        select=None if args.select == "none" else args.select,
        scale=args.scale,
        chromium=args.chromium,
    )
    # 3. Report.
    log.info("wrote %s", args.png)
    if blocked:
        log.error("the report tried to reach the network: %s", ", ".join(blocked))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
