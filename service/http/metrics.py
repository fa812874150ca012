"""GET /metrics in Prometheus' text format: every metric of the process's registry (the
requests', the divergences' rows scored, the job gauges read at each scrape).

With several uvicorn workers each process keeps its own request counters; scrape each
process, or run one API process per container and scale containers.
"""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Metrics in Prometheus' text format: requests, latency, rows scored, jobs, queue."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
