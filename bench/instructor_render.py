"""Time to generate a set and render its printable sheets and answer key (HTML).

Run: ``.venv/bin/python bench/instructor_render.py [--count 300]``. Prints seconds for
generating the set (problems + answers), rendering the sheets, rendering the key, and the
sizes of both pages. PDFs are Chromium's work and are timed separately with ``--pdf``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.exports import html_to_pdf
from app.instructor import VariantsRequest, build_set, render_set
from app.pages import STATIC_DIR
from app.settings import configure_torch, get_settings


def main() -> None:
    """Generate, render, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--pdf", type=int, default=0, help="also print this many variants")
    args = parser.parse_args()
    configure_torch(get_settings())
    build_set(VariantsRequest(count=2, seed=1))  # imports and caches warm
    render_set(None, "instructor/key.html", "en", build_set(VariantsRequest(count=2, seed=1)))
    started = time.perf_counter()
    variant_set = build_set(VariantsRequest(count=args.count, seed=2020))
    generated = time.perf_counter()
    sheets = render_set(None, "instructor/sheets.html", "en", variant_set)
    rendered_sheets = time.perf_counter()
    key = render_set(None, "instructor/key.html", "en", variant_set)
    done = time.perf_counter()
    print(f"{args.count} full-quiz variants")
    print(f"  generate + solve_batch   {generated - started:6.2f} s")
    sheets_mb = len(sheets) / 1e6
    print(f"  sheets HTML              {rendered_sheets - generated:6.2f} s  {sheets_mb:.1f} MB")
    print(f"  key HTML (worked steps)  {done - rendered_sheets:6.2f} s  {len(key) / 1e6:.1f} MB")
    print(f"  total                    {done - started:6.2f} s")
    if args.pdf:
        small = build_set(VariantsRequest(count=args.pdf, seed=2020))
        for name in ("sheets", "key"):
            html = render_set(None, f"instructor/{name}.html", "en", small, STATIC_DIR.as_uri())
            t = time.perf_counter()
            pdf = html_to_pdf(html, timeout=600)
            size = len(pdf or b"") / 1e6
            seconds = time.perf_counter() - t
            print(f"  {name}.pdf of {args.pdf} variants  {seconds:6.2f} s  {size:.1f} MB")


if __name__ == "__main__":
    main()
