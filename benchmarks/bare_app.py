"""A bare FastAPI app: the floor the service is compared with by the benchmarks beside it.

Run it as the service runs (uvicorn, uvloop, the service's bounded httptools protocol, one
worker, log level info unless told otherwise, one JSON access-log line per request through
the service's formatter)::

    .venv/bin/python benchmarks/bare_app.py --port 8001

Endpoints (the first three answer a constant of the shape of the service's ``/kl`` answer):

- ``POST /constant``: ``async def``; the body is never read.
- ``POST /parse``: ``async def``; the body parsed by FastAPI into a pydantic model of two
  ``list[float]`` (the same JSON shape as ``/kl``'s request).
- ``POST /parse-sync``: the same as a plain ``def``, which FastAPI runs in its thread pool,
  as it runs the service's routes.
- ``POST /read-body``: reads the raw body and answers its length (no parsing): the HTTP
  floor of ``benchmarks/batch_json.py``.
- ``GET /healthz``: liveness, for the benchmarks to wait on.
"""

import argparse

import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from service.http.observability import log_config

ANSWER = {"finite": True, "infinite_at": None, "unit": "nat", "kl": 0.5}


class Pair(BaseModel):
    p: list[float]
    q: list[float]


app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/constant")
async def constant() -> dict[str, object]:
    return ANSWER


@app.post("/parse")
async def parse(body: Pair) -> dict[str, object]:
    return ANSWER


@app.post("/parse-sync")
def parse_sync(body: Pair) -> dict[str, object]:
    return ANSWER


@app.post("/read-body")
async def read_body(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    # The settings of `python -m service serve` (service/cli.py), one worker. The service
    # writes its access line from its own middleware; here uvicorn writes it, through the
    # same JSON formatter, so both servers log one line per request alike.
    logging = log_config(args.log_level)
    logging["loggers"]["uvicorn.access"] = {"handlers": [], "propagate": True}
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="service.http.protocol:BoundedHttpToolsProtocol",
        log_level=args.log_level,
        log_config=logging,
    )


if __name__ == "__main__":
    main()
