"""The training process the worker starts for a job: ``python -m service.training.child``.

It reads ``{"experiment": name, "params": {...}, "cifar10_dir": str | null, "nice": int}``
on stdin and writes one JSON event per line on stdout (see
:func:`service.training.train.run`): first the devices it trains on, last
``{"event": "done", "results": {...}}`` or ``{"event": "error", "message": ...}`` (exit
status 2). Anything else printed (TensorFlow's logs) goes to stderr, never among events.
"""

import json
import math
import os
import sys
from pathlib import Path
from typing import Any


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinite floats (a diverged loss) as None: JSON has neither."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def main() -> int:
    # Events get the real stdout; fd 1 now points at stderr, for stray prints of libraries.
    events = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def emit(event: dict[str, Any]) -> None:
        events.write(json.dumps(_finite(event), allow_nan=False) + "\n")

    request = json.loads(sys.stdin.read())
    # Training yields the CPU to the API and other latency-sensitive work on the machine.
    os.nice(int(request.get("nice", 0)))
    from service.training.data import DataError
    from service.training.experiments import EXPERIMENTS
    from service.training.params import EXPERIMENT
    from service.training.train import run

    # Jobs queued before experiments were named in the request are the first one's.
    name = request.get("experiment", EXPERIMENT)
    directory = request.get("cifar10_dir")
    try:
        results = run(
            name,
            EXPERIMENTS[name].params.model_validate(request["params"]),
            cifar10_dir=Path(directory) if directory else None,
            emit=emit,
        )
    except DataError as error:
        emit({"event": "error", "message": str(error)})
        return 2
    emit({"event": "done", "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
