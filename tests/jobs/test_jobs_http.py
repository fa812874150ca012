"""Training jobs through HTTP against the real server and its embedded worker."""

import httpx
import pytest

from tests.jobs.helpers import QUICK, finished, submit, wait_for


def test_submit_answers_202_at_once_with_the_job_and_its_location(
    jobs_client: httpx.Client,
) -> None:
    response = jobs_client.post("/jobs", json={"experiment": "kl-vs-ce-cifar10", **QUICK})
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and len(job["id"]) == 32
    assert response.headers["location"] == f"/jobs/{job['id']}"
    assert job["parameters"] == {
        **QUICK,
        "losses": ["kl", "ce"],
        "validation_split": 0.2,
        "seed": 0,
        "train_limit": None,
        "test_limit": None,
    }
    wait_for(jobs_client, job["id"], finished)


def test_a_job_trains_both_losses_and_reports_results_above_chance(
    jobs_client: httpx.Client,
) -> None:
    job = submit(jobs_client, epochs=4, batch_size=32, runs=2)
    done = wait_for(jobs_client, job["id"], finished)
    assert done["status"] == "succeeded", done["error"]
    assert done["started_at"] and done["finished_at"] and done["attempts"] == 1
    runs = done["results"]["runs"]
    assert [(r["loss"], r["run"]) for r in runs] == [("kl", 1), ("ce", 1), ("kl", 2), ("ce", 2)]
    for run in runs:
        assert set(run["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(values) == 4 for values in run["history"].values())
        assert run["test"]["accuracy"] > 0.3  # ten classes: chance is 0.1
        assert run["seconds"] > 0
    summary = done["results"]["summary"]
    for loss in ("kl", "ce"):
        assert summary[loss]["runs"] == 2
        assert 0.3 < summary[loss]["test_accuracy_mean"] <= 1
        assert summary[loss]["test_accuracy_std"] is not None
    comparison = summary["comparison"]
    assert comparison["interval_low"] <= comparison["accuracy_difference"]
    assert comparison["accuracy_difference"] <= comparison["interval_high"]
    paired = comparison["paired"]
    accuracy = {(r["loss"], r["run"]): r["test"]["accuracy"] for r in done["results"]["runs"]}
    assert paired["differences"] == [accuracy["kl", r] - accuracy["ce", r] for r in (1, 2)]
    assert paired["interval_low"] <= paired["mean_difference"] <= paired["interval_high"]
    assert "(paired KL - CE" in comparison["verdict"]


def test_progress_says_which_loss_run_and_epoch_with_time_left(
    jobs_client: httpx.Client,
) -> None:
    job = submit(jobs_client, epochs=30, batch_size=32, runs=1, losses=["ce"])
    running = wait_for(jobs_client, job["id"], lambda j: j["progress"] is not None or finished(j))
    progress = running["progress"]
    assert running["status"] == "running"
    assert progress["loss"] == "ce" and progress["run"] == 1 and progress["epochs"] == 30
    assert 1 <= progress["epoch"] <= 30 and progress["total_epochs"] == 30
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(progress["metrics"])
    assert progress["eta_seconds"] >= 0
    assert running["results"]["runs"][0]["history"]["loss"]  # partial history while running
    jobs_client.delete(f"/jobs/{job['id']}")
    wait_for(jobs_client, job["id"], finished)


def test_cancel_a_queued_job_at_once_and_a_running_one_within_an_epoch(
    jobs_client: httpx.Client,
) -> None:
    long = submit(jobs_client, epochs=400, batch_size=32, runs=1, losses=["kl"])
    wait_for(jobs_client, long["id"], lambda j: j["progress"] is not None)
    waiting = submit(jobs_client, **QUICK)  # the one worker is busy: this one waits
    cancelled = jobs_client.delete(f"/jobs/{waiting['id']}")
    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"

    assert jobs_client.delete(f"/jobs/{long['id']}").json()["cancel_requested"] is True
    ended = wait_for(jobs_client, long["id"], finished, timeout=30)
    assert ended["status"] == "cancelled"
    assert ended["results"]["runs"][0]["history"]["loss"], "partial history is kept"
    assert jobs_client.get(f"/jobs/{waiting['id']}").json()["started_at"] is None


def test_cancelling_a_finished_job_is_a_conflict(jobs_client: httpx.Client) -> None:
    job = submit(jobs_client, **QUICK, losses=["kl"])
    wait_for(jobs_client, job["id"], finished)
    response = jobs_client.delete(f"/jobs/{job['id']}")
    assert response.status_code == 409
    assert "already succeeded" in response.json()["detail"]


def test_list_is_newest_first_filtered_by_status_and_paged(jobs_client: httpx.Client) -> None:
    first = submit(jobs_client, **QUICK, losses=["kl"])
    second = submit(jobs_client, **QUICK, losses=["ce"])
    jobs_client.delete(f"/jobs/{second['id']}")
    page = jobs_client.get("/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in page["jobs"]] == [second["id"], first["id"]]
    assert page["total"] >= 2 and page["limit"] == 2
    cancelled = jobs_client.get("/jobs", params={"status": "cancelled", "limit": 100}).json()
    assert second["id"] in {j["id"] for j in cancelled["jobs"]}
    assert all(j["status"] == "cancelled" for j in cancelled["jobs"])
    later = jobs_client.get("/jobs", params={"limit": 1, "offset": 1}).json()
    assert later["jobs"][0]["id"] == first["id"]
    wait_for(jobs_client, first["id"], finished)


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"epochs": 0}, ["body", "epochs"]),
        ({"epochs": 501}, ["body", "epochs"]),  # over DIVERGENCE_MAX_EPOCHS
        ({"runs": 11}, ["body", "runs"]),
        ({"batch_size": 0}, ["body", "batch_size"]),
        ({"losses": ["mse"]}, ["body", "losses", 0]),
        ({"losses": ["kl", "kl"]}, ["body", "losses"]),
        ({"losses": []}, ["body", "losses"]),
        ({"validation_split": 1.5}, ["body", "validation_split"]),
        ({"train_limit": 0}, ["body", "train_limit"]),
        ({"seed": -1}, ["body", "seed"]),
        ({"experiment": "mnist"}, ["body", "experiment"]),
        ({"learning_rate": 0.1}, ["body", "learning_rate"]),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    jobs_client: httpx.Client, params: dict[str, object], loc: list[object]
) -> None:
    response = jobs_client.post("/jobs", json={"experiment": "kl-vs-ce-cifar10", **params})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_unknown_job_is_404(jobs_client: httpx.Client) -> None:
    for method, path in (
        ("GET", "/jobs/nope"),
        ("DELETE", "/jobs/nope"),
        ("GET", "/jobs/nope/report"),
        ("GET", "/jobs/nope/curves/loss.png"),
    ):
        response = jobs_client.request(method, path)
        assert response.status_code == 404, path
        assert "nope" in response.json()["detail"]


def test_report_page_and_curves_for_a_finished_job(jobs_client: httpx.Client) -> None:
    job = submit(jobs_client, **QUICK)
    wait_for(jobs_client, job["id"], finished)
    page = jobs_client.get(f"/jobs/{job['id']}/report")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "test accuracy" in page.text and "curves/val_accuracy.png" in page.text
    assert "paired (run r of each loss)" in page.text and "unpaired (Welch)" in page.text
    assert "curves/val_accuracy_difference.png" in page.text
    for metric in ("val_accuracy", "val_loss", "val_accuracy_difference"):
        picture = jobs_client.get(f"/jobs/{job['id']}/curves/{metric}.png")
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG") and len(picture.content) > 5000


def test_the_experiments_are_listed_with_their_parameters_defaults_and_caps(
    jobs_client: httpx.Client,
) -> None:
    listed = {e["name"]: e for e in jobs_client.get("/experiments").json()}
    first = listed["kl-vs-ce-cifar10"]
    assert first["description"]
    assert first["defaults"]["epochs"] == 25 and first["defaults"]["losses"] == ["kl", "ce"]
    assert {"epochs", "runs", "batch_size", "losses"} <= set(first["parameters"]["properties"])
    # The test server caps epochs at 500 (DIVERGENCE_MAX_EPOCHS), under the schema's 1000.
    assert first["bounded_by_settings"]["epochs"] == 500
    assert first["parameters"]["properties"]["epochs"]["maximum"] == 1000
