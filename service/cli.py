"""The ``divergence-service`` command (also ``python -m service``)."""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def openapi_document() -> str:
    """The OpenAPI document the app serves, as the exported file holds it."""
    from service.app import create_app
    from service.core.config import Settings

    app = create_app(Settings(warm_tensorflow=False))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.core.config import get_settings
    from service.http.observability import log_config

    if args.no_worker or args.workers > 1:
        # Several API processes must not each embed a worker: run `divergence-service
        # worker` beside them instead. Read by the settings of every uvicorn worker.
        os.environ["DIVERGENCE_EMBEDDED_WORKER"] = "false"
        get_settings.cache_clear()

    uvicorn.run(
        "service.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        # httptools with limits on header size and request read time (slow clients).
        http="service.http.protocol:BoundedHttpToolsProtocol",
        log_level=get_settings().log_level,
        log_config=log_config(get_settings().log_level),
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.jobs.runtime import JobsConnector

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    connector = JobsConnector(get_settings(), with_worker=True)
    connector.start()
    stop.wait()
    connector.close()
    return 0


# The parameters the experiment command takes, for every experiment that has them.
EXPERIMENT_OPTIONS: dict[str, dict[str, Any]] = {
    "epochs": {"type": int},
    "batch_size": {"type": int},
    "runs": {"type": int},
    "losses": {"nargs": "+", "choices": ["kl", "ce"]},
    "latent_dim": {"type": int},
    "beta": {"type": float},
    "kl_warmup_epochs": {"type": int},
    "learning_rate": {"type": float},
    "validation_split": {"type": float},
    "seed": {"type": int},
    "train_limit": {"type": int},
    "test_limit": {"type": int},
}


def _experiment(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from service.core.config import get_settings
    from service.training.data import DataError
    from service.training.experiments import EXPERIMENTS
    from service.training.train import run

    given = {f: getattr(args, f) for f in EXPERIMENT_OPTIONS if getattr(args, f) is not None}
    try:
        params = EXPERIMENTS[args.experiment].params.model_validate(given)
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def show(event: dict[str, Any]) -> None:
        if event["event"] == "devices":
            print(f"training on: {', '.join(event['devices'])}")
        elif event["event"] == "data":
            print(
                f"data: {event['train']} train, {event['validation']} validation, "
                f"{event['test']} test images"
            )
        elif event["event"] == "run":
            print(
                f"{str(event['loss']).upper()} run {event['run']}: test {event['test']} "
                f"in {float(event['seconds']):.1f} s"
            )

    directory = args.cifar10_dir or get_settings().cifar10_dir
    try:
        results = run(args.experiment, params, cifar10_dir=directory, emit=show, verbose=1)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.output.write_text(json.dumps(results, indent=2))
    comparison = (results.get("summary") or {}).get("comparison")
    if comparison:
        print(comparison["verdict"])
    print(f"wrote {args.output}")
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
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="API only: run training workers with `divergence-service worker`",
    )
    serve.set_defaults(run=_serve)
    worker = commands.add_parser("worker", help="run a training worker only (no API)")
    worker.set_defaults(run=_worker)
    experiment = commands.add_parser(
        "experiment", help="run an experiment here (as a job would), with a progress bar"
    )
    experiment.add_argument(
        "--experiment", choices=["kl-vs-ce-cifar10", "vae-cifar10"], default="kl-vs-ce-cifar10"
    )
    for name, options in EXPERIMENT_OPTIONS.items():
        experiment.add_argument("--" + name.replace("_", "-"), dest=name, **options)
    experiment.add_argument(
        "--cifar10-dir",
        dest="cifar10_dir",
        type=Path,
        help="local CIFAR-10 (default: DIVERGENCE_CIFAR10_DIR, else Keras)",
    )
    experiment.add_argument("--output", type=Path, default=Path("results.json"))
    experiment.set_defaults(run=_experiment)
    export = commands.add_parser("export-openapi", help="write the OpenAPI document")
    export.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)
    export.set_defaults(run=_export_openapi)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    args = _parser().parse_args(argv)
    return int(args.run(args))
