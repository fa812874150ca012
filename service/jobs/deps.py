"""The job routes' dependency: the job store and queue the app opened."""

from typing import Annotated

from fastapi import Depends, Request

from service.core.errors import Unavailable
from service.jobs.runtime import Jobs, JobsConnector


async def get_jobs(request: Request) -> Jobs:
    """The job store and queue, or 503 with the reason while they cannot be opened."""
    connector: JobsConnector = request.app.state.jobs_connector
    if connector.jobs is None:
        raise Unavailable(f"jobs are unavailable ({connector.error}); retrying: try again shortly")
    return connector.jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]
