"""Turns a training process's events into a job's progress and (partial) results."""

from typing import Any

from pydantic import BaseModel

from service.training.experiments import Experiment


class ProgressTracker:
    """Folds the events of an experiment's training (:mod:`service.training.experiment`)
    into JSON-ready state.

    ``progress`` says which loss and run is training, the epoch, the latest metrics and
    an estimate of the time left (mean epoch time so far times the epochs left);
    ``partial_results`` holds every run so far, the unfinished one with its history, and
    the devices training runs on.
    """

    def __init__(self, experiment: Experiment, params: BaseModel) -> None:
        self.experiment = experiment
        self.params: Any = params
        self.runs: list[dict[str, Any]] = []
        self.progress: dict[str, Any] | None = None
        self.results: dict[str, Any] | None = None
        self.error: str | None = None
        self.devices: list[str] = []
        self._epoch_seconds: list[float] = []

    def _run(self, loss: str, run: int) -> dict[str, Any]:
        for record in self.runs:
            if record["loss"] == loss and record["run"] == run:
                return record
        record = {
            "loss": loss,
            "run": run,
            "history": {k: [] for k in self.experiment.history_keys},
            "test": None,
            "seconds": None,
            "epoch_seconds": [],
        }
        self.runs.append(record)
        return record

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "epoch":
            record = self._run(event["loss"], event["run"])
            for key in self.experiment.history_keys:
                if key in event["metrics"]:
                    record["history"][key].append(event["metrics"][key])
            record["epoch_seconds"].append(event["seconds"])
            self._epoch_seconds.append(float(event["seconds"]))
            done = len(self._epoch_seconds)
            total = self.params.total_epochs
            mean = sum(self._epoch_seconds) / done
            self.progress = {
                "loss": event["loss"],
                "run": event["run"],
                "runs": self.params.runs,
                "epoch": event["epoch"],
                "epochs": event["epochs"],
                "completed_epochs": done,
                "total_epochs": total,
                "fraction": done / total,
                "metrics": event["metrics"],
                "eta_seconds": mean * (total - done),
            }
        elif kind == "run":
            record = self._run(event["loss"], event["run"])
            record["test"], record["seconds"] = event["test"], event["seconds"]
        elif kind == "devices":
            self.devices = [str(name) for name in event["devices"]]
        elif kind == "done":
            self.results = event["results"]
        elif kind == "error":
            self.error = str(event.get("message"))

    @property
    def partial_results(self) -> dict[str, Any]:
        finished = [r for r in self.runs if r["test"] is not None]
        return {
            "runs": self.runs,
            "summary": self.experiment.summarize(finished, self.params) if finished else None,
            "devices": self.devices,
        }
