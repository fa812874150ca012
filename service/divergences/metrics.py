"""The divergences' Prometheus metric: rows scored, by member and backend."""

import functools

from prometheus_client import Counter

ROWS_SCORED = Counter(
    "divergence_rows_scored_total", "Distribution pairs scored", ["divergence", "backend"]
)


@functools.lru_cache(maxsize=256)
def rows_scored(divergence: str, backend: str) -> Counter:
    """The counter of rows scored by ``divergence`` on ``backend`` (looked up once)."""
    return ROWS_SCORED.labels(divergence, backend)
