"""Screenshot stepgrad pages with Debian's headless chromium (for the README and for review).

Usage: ``.venv/bin/python tools/screenshot.py BASE_URL OUT_DIR [PATH …] [--width 1000 …]
[--full] [--print] [--student]``; each PATH (e.g. ``/loss?lang=ru``) becomes one PNG per
width in OUT_DIR. ``--student`` adds every page a student meets, in both languages: the
home page, the three task pages, their try pages with a wrong answer checked and the hint
ladder's first two rungs opened, a form error and a 404 page (``--width 360 --width
1280`` as the layout tests). Never downloads a browser: it drives ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

LECTURE_SCORES = {
    "scores": "3.2 1.3 2.2\n5.1 4.9 2.5\n-1.7 2.0 -3.1",
    "labels": "0 1 2",
    "class_names": "cat, car, frog",
}
NEURON = {
    "expression": "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3",
}
CONV = {
    "image": "1 2 3 4 5\n2 2 1 1 1\n3 2 1 1 1\n4 1 1 1 1\n5 1 1 1 1",
    "filters": "0 -1 0\n1 1 1\n0 -1 0",
    "bias": "0",
    "stride": "2",
    "pool_kind": "max",
    "pool_size": "2",
}
WRONG = {
    "loss": ({**LECTURE_SCORES, "a_per_example": "2.9 0 10.9", "a_loss": "4.6"}, "loss"),
    "graph": (
        {
            **NEURON,
            "a_nodes.8": "1",
            "a_output": "0.73",
            "a_gradients": "w0 = 0.2, x0 = -0.39, w1 = -0.39, x1 = -0.59, w2 = 0.2",
        },
        "gradients",
    ),
    "conv": ({**CONV, "a_conv": "1 -2\n3 -4", "a_activation": "1 0\n3 0", "a_pool": "4"}, "pool"),
}
"""Per task: a try page's problem with a wrong answer, and the part whose hints are opened."""


Shot = tuple[str, str, str | None]
"""A screenshot's name, its path and the try part whose hints to open (or None)."""


def student_pages(lang: str) -> list[Shot]:
    """Every page a student meets in ``lang``."""
    shots: list[Shot] = [(f"home_{lang}", f"/?lang={lang}", None)]
    shots += [(f"{task}_{lang}", f"/{task}?lang={lang}", None) for task in WRONG]
    shots += [
        (f"{task}_try_{lang}", f"/{task}/try?{urlencode({**query, 'lang': lang})}", part)
        for task, (query, part) in WRONG.items()
    ]
    shots.append((f"form_error_{lang}", f"/graph?expression=x*&lang={lang}", None))
    shots.append((f"not_found_{lang}", f"/nowhere?lang={lang}", None))
    return shots


def open_hints(page: Page, part: str) -> None:
    """Open the first two rungs of a try page's hint ladder for ``part``."""
    ladder = page.locator(f'.hints[data-part="{part}"]')
    for level in (1, 2):
        ladder.locator(f"a.hint-next[data-level='{level}']").click()
        ladder.locator(f".hint[data-level='{level}']").wait_for()
        page.wait_for_load_state("networkidle")


def main() -> None:
    """Take one screenshot per path and width."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base")
    parser.add_argument("out", type=Path)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--width", type=int, action="append", help="repeatable (1000)")
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full", action="store_true", help="the whole page, not one screen")
    parser.add_argument("--print", action="store_true", help="emulate print media")
    parser.add_argument("--student", action="store_true", help="every page a student meets")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pages: list[Shot] = [
        (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home", path, None)
        for path in args.paths
    ]
    if args.student:
        pages += student_pages("en") + student_pages("ru")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for width in args.width or [1000]:
            page = browser.new_page(viewport={"width": width, "height": args.height})
            if args.print:
                page.emulate_media(media="print")
            for name, path, part in pages:
                page.goto(args.base + path)
                page.wait_for_load_state("networkidle")
                if part:
                    open_hints(page, part)
                target = args.out / f"{name}_{width}.png"
                page.screenshot(path=str(target), full_page=args.full)
                print(target)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
