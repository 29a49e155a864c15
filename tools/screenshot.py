"""Screenshot stepgrad pages with Debian's headless chromium (for the README and for review).

Usage: ``.venv/bin/python tools/screenshot.py BASE_URL OUT_DIR PATH [PATH …]
[--width 1000] [--full]``; each PATH (e.g. ``/loss?lang=ru``) becomes one PNG in OUT_DIR.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    """Take one screenshot per path."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base")
    parser.add_argument("out", type=Path)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full", action="store_true", help="the whole page, not one screen")
    parser.add_argument("--print", action="store_true", help="emulate print media")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        if args.print:
            page.emulate_media(media="print")
        for path in args.paths:
            page.goto(args.base + path)
            page.wait_for_load_state("networkidle")
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
            target = args.out / f"{name}_{args.width}.png"
            page.screenshot(path=str(target), full_page=args.full)
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
