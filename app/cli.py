"""The ``stepgrad`` command: ``serve`` the app, write a set of ``variants`` to a folder, or
keep the classroom's exams (``exam``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from app.classroom import cli as exam_commands
from app.settings import configure_torch, get_settings
from solvers.registry import TASKS


def _progress(done: int, total: int, label: str) -> None:
    """A one-line progress bar on stderr."""
    width = 24
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<24}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def write_variants(args: argparse.Namespace) -> list[Path]:
    """Generate the set and write sheets, key, JSON, CSV, Moodle XML (and PDFs) to ``--out``."""
    from app.exports import html_to_pdf, moodle_xml, variants_csv
    from app.i18n import current_language
    from app.instructor import MOODLE_TOLERANCE, render_set, statements
    from app.pages import STATIC_DIR
    from solvers.variants.sets import generate_set, quiz_spec

    settings = get_settings()
    current_language.set(args.lang)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    model = quiz_spec()
    spec = model.model_validate_json(args.spec.read_text()) if args.spec else model()
    secret = settings.secret.encode() if settings.secret else None
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    steps = ["variants", "sheets.html", "key.html", "variants.json", "answers.csv", "moodle.xml"]
    if not args.no_pdf:
        steps += ["sheets.pdf", "key.pdf"]
    _progress(0, len(steps), "generating")
    variant_set = generate_set(tasks, spec, args.seed, args.count, secret, settings.device)
    _progress(1, len(steps), "variants")
    for folder in ("css", "js", "vendor"):
        shutil.copytree(STATIC_DIR / folder, out / "static" / folder, dirs_exist_ok=True)
    shutil.copy(STATIC_DIR / "favicon.svg", out / "static" / "favicon.svg")
    written: list[Path] = []

    def save(name: str, content: str | bytes | None) -> None:
        if content is None:
            sys.stderr.write(f"\n{name}: skipped (no Chromium to print with)\n")
        else:
            path = out / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
            written.append(path)
        _progress(len(written) + 1, len(steps), name)

    pages = {}
    for name in ("sheets", "key"):
        pages[name] = render_set(None, f"instructor/{name}.html", args.lang, variant_set, "static")
        save(f"{name}.html", pages[name])
    save("variants.json", variant_set.model_dump_json(indent=1))
    save("answers.csv", variants_csv(variant_set))
    texts, feedback = statements(variant_set, args.lang)
    save("moodle.xml", moodle_xml(variant_set, texts, MOODLE_TOLERANCE, feedback))
    if not args.no_pdf:
        for name in ("sheets", "key"):
            absolute = pages[name].replace('"static/', f'"{(out / "static").resolve().as_uri()}/')
            save(f"{name}.pdf", html_to_pdf(absolute, timeout=60 + 2 * args.count))
    return written


WORKER_HEALTHCHECK_S = 60
"""How long a worker may take to answer uvicorn's health check (its default, 5 s, killed
workers still importing torch on a busy machine as hung, again and again)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stepgrad`` console script."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="stepgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the web app and JSON API")
    serve.add_argument("--host", default=settings.host, help="address (default %(default)s)")
    serve.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    serve.add_argument(
        "--workers",
        type=int,
        default=settings.workers,
        help="worker processes (default %(default)s); they share the classroom's database, "
        "so N workers or N machines on one PostgreSQL serve one class",
    )
    variants = commands.add_parser(
        "variants", help="write problem sheets, answer key, JSON, CSV and Moodle XML"
    )
    variants.add_argument("--count", type=int, default=30, help="variants (default %(default)s)")
    variants.add_argument("--seed", type=int, default=2020, help="seed (default %(default)s)")
    variants.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help=f"comma-separated, of: {', '.join(TASKS)} (default %(default)s)",
    )
    variants.add_argument("--spec", type=Path, help="a JSON file with the spec (QuizSpec)")
    variants.add_argument("--lang", choices=("en", "ru"), default="en")
    variants.add_argument("--out", type=Path, required=True, help="folder to write into")
    variants.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    exam_commands.add_parser(commands, settings)
    args = parser.parse_args(argv)

    if args.command == "exam":
        return exam_commands.main(args)
    if args.command == "serve":
        import uvicorn

        from app.classroom.db import UNAVAILABLE, get_database, reason, shown_url

        # the served app is the classroom's home: its database (by default ./stepgrad.db) is
        # made and migrated once, before the workers start together, so the first start
        # prints the instructor's login link; one that cannot be used stops nothing else
        try:
            get_database().ready().engine.dispose()
        except UNAVAILABLE as exc:
            print(f"stepgrad: the classroom's database {shown_url()} cannot be used "
                  f"({reason(exc)}); serving without it until it can", file=sys.stderr)  # fmt: skip
        # the app (and each worker) reads where it is served from, for the login link
        os.environ.update(STEPGRAD_HOST=args.host, STEPGRAD_PORT=str(args.port))
        get_settings.cache_clear()
        uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers,
                    access_log=settings.access_log,
                    timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)  # fmt: skip
    else:
        configure_torch(settings)
        started = time.perf_counter()
        try:
            written = write_variants(args)
        except ValueError as error:  # pydantic's ValidationError is one too
            parser.error(str(error))
        print(f"{len(written)} files in {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
