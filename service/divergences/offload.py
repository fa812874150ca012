"""Where a divergence route runs: small bodies on the event loop, large ones in a thread."""

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

# Scoring fewer numbers than this in numpy takes tens of microseconds: it runs on the event
# loop, sparing a thread-pool hop that would cost more than the work. Larger bodies are
# scored in the thread pool, so the loop keeps serving other requests meanwhile. The
# TensorFlow batch routes always run in the thread pool (plain def): TensorFlow may still
# be importing in the background when the first batch arrives.
INLINE_NUMBERS = 50_000

Endpoint = TypeVar("Endpoint", bound=Callable[..., BaseModel])


def _numbers(body: BaseModel) -> int:
    rows = getattr(body, "p", None) or getattr(body, "mu", [])
    return len(rows) * len(rows[0]) if rows and isinstance(rows[0], list) else len(rows)


def off_loop_when_large(endpoint: Endpoint) -> Callable[..., Awaitable[BaseModel]]:
    """``endpoint`` as a coroutine that runs it inline for small bodies, else in a thread."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> BaseModel:
        if _numbers(kwargs["body"]) <= INLINE_NUMBERS:
            return endpoint(*args, **kwargs)
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run
