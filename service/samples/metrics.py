"""The drift checks' Prometheus metrics: checks and columns by verdict, for alerts on drift."""

from prometheus_client import Counter

DRIFT_CHECKS = Counter(
    "divergence_drift_checks_total", "Drift reports computed, by dataset verdict", ["drift"]
)
DRIFT_COLUMNS = Counter(
    "divergence_drift_columns_total", "Columns compared with a profile, by verdict", ["drifted"]
)


def count_drift(result: dict) -> None:
    """Count a drift report's dataset verdict and its columns' verdicts."""
    DRIFT_CHECKS.labels(str(result["dataset"]["drift"]).lower()).inc()
    drifted = result["dataset"]["drifted_columns"]
    DRIFT_COLUMNS.labels("true").inc(drifted)
    DRIFT_COLUMNS.labels("false").inc(result["dataset"]["columns"] - drifted)
