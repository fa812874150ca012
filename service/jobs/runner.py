"""Runs one job: claim it, train in a child process, record progress, obey a cancel.

The child is ``python -m service.training.child`` in its own process group (a fresh
interpreter, never a fork of this process): only it imports TensorFlow, and when it ends
every byte of its memory is returned. A cancel sends SIGTERM to the group, then SIGKILL
after ``cancel_grace_seconds``.
"""

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from service.core.config import Settings
from service.jobs.progress import ProgressTracker
from service.jobs.store import CANCELLED, FAILED, SUCCEEDED, JobStore
from service.training.experiments import EXPERIMENTS

log = logging.getLogger(__name__)


def _read_lines(stream: IO[bytes], lines: "queue.Queue[bytes | None]") -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _stop(child: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


class JobRunner:
    """Runs jobs for one worker; ``run`` is what the queue's task calls."""

    def __init__(
        self, store: JobStore, settings: Settings, worker_id: str, stopping: threading.Event
    ) -> None:
        self.store = store
        self.settings = settings
        self.worker_id = worker_id
        self.stopping = stopping

    def run(self, job_id: str) -> None:
        if not self.store.claim(job_id, self.worker_id):
            log.info("job %s is not queued (cancelled or taken); skipped", job_id)
            return
        job = self.store.get(job_id)
        assert job is not None
        experiment = EXPERIMENTS[job.experiment]
        tracker = ProgressTracker(experiment, experiment.params.model_validate(job.parameters))
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{job_id}.log"
        request = {
            "nice": self.settings.training_nice,
            "experiment": job.experiment,
            "params": job.parameters,
            "cifar10_dir": (str(self.settings.cifar10_dir) if self.settings.cifar10_dir else None),
        }
        with log_path.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "service.training.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
        log.info("job %s: training in process %d", job_id, child.pid)
        try:
            self._supervise(job_id, child, request, tracker, log_path)
        except BaseException as error:
            _stop(child, self.settings.cancel_grace_seconds)
            self.store.finish(
                job_id,
                FAILED,
                results=tracker.partial_results,
                error=f"the worker failed: {type(error).__name__}: {error}",
            )
            raise

    def _supervise(
        self,
        job_id: str,
        child: subprocess.Popen[bytes],
        request: object,
        tracker: ProgressTracker,
        log_path: Path,
    ) -> None:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(request).encode())
        child.stdin.close()
        lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=self.settings.heartbeat_seconds)
            except queue.Empty:
                self.store.beat(job_id)
            else:
                if line is None:
                    break
                tracker.apply(json.loads(line))
                self.store.beat(job_id, progress=tracker.progress, results=tracker.partial_results)
            if self.stopping.is_set():
                _stop(child, self.settings.cancel_grace_seconds)
                self.store.requeue(job_id)
                log.info("job %s handed back to the queue: the worker is stopping", job_id)
                return
            if self.store.cancel_requested(job_id):
                _stop(child, self.settings.cancel_grace_seconds)
                self.store.finish(
                    job_id, CANCELLED, results=tracker.partial_results, error="cancelled on request"
                )
                log.info("job %s cancelled", job_id)
                return
        status = child.wait()
        if tracker.results is not None and status == 0:
            self.store.finish(job_id, SUCCEEDED, results=tracker.results)
        else:
            reason = tracker.error or (
                f"the training process exited with status {status}: {_tail(log_path)}"
            )
            self.store.finish(job_id, FAILED, results=tracker.partial_results, error=reason)
        log.info("job %s ended (process status %d)", job_id, status)
