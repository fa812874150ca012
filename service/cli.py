"""The ``divergence-service`` command (also ``python -m service``)."""

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def openapi_document() -> str:
    """The OpenAPI document the app serves, as the exported file holds it."""
    from service.app import create_app
    from service.config import Settings

    app = create_app(Settings(warm_tensorflow=False))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.config import get_settings

    uvicorn.run(
        "service.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level=get_settings().log_level,
    )
    return 0


def _export_openapi(args: argparse.Namespace) -> int:
    path: Path = args.output
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(openapi_document(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="divergence-service",
        description="A REST service that compares probability distributions.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.set_defaults(run=_serve)
    export = commands.add_parser("export-openapi", help="write the OpenAPI document")
    export.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)
    export.set_defaults(run=_export_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    args = _parser().parse_args(argv)
    return int(args.run(args))
