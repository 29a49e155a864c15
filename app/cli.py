"""The ``stepgrad`` command: ``stepgrad serve [--host H] [--port P]``."""

from __future__ import annotations

import argparse

from app.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stepgrad`` console script."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="stepgrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the web app and JSON API")
    serve.add_argument("--host", default=settings.host, help="address (default %(default)s)")
    serve.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    args = parser.parse_args(argv)

    if args.command == "serve":
        import uvicorn

        uvicorn.run("app.main:app", host=args.host, port=args.port, access_log=settings.access_log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
