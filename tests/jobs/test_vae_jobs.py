"""The VAE experiment as a job, through HTTP: queued, trained on the tiny image folders,
its per-epoch terms, test scores, report page and pictures; its parameters checked."""

import math

import httpx
import pytest

from service.training.train import devices
from tests.jobs.helpers import finished, wait_for

VAE = {"experiment": "vae-cifar10", "epochs": 2, "batch_size": 32, "latent_dim": 4}


@pytest.fixture(scope="module")
def vae_job(jobs_client: httpx.Client) -> dict:
    answer = jobs_client.post("/jobs", json={**VAE, "kl_warmup_epochs": 2, "beta": 2.0})
    assert answer.status_code == 202, answer.text
    done = wait_for(jobs_client, answer.json()["id"], finished, timeout=240)
    assert done["status"] == "succeeded", done
    return done


def test_a_vae_job_reports_its_three_terms_per_epoch_and_its_test_elbo(vae_job: dict) -> None:
    run = vae_job["results"]["runs"][0]
    history = run["history"]
    for key in ("reconstruction_loss", "kl_loss", "loss", "val_loss", "active_units", "beta"):
        assert len(history[key]) == 2, key
    # Warm-up over 2 epochs to beta = 2: beta_t is 1 then 2, and the loss is the sum.
    assert history["beta"] == [1.0, 2.0]
    for epoch in range(2):
        total = (
            history["reconstruction_loss"][epoch]
            + history["beta"][epoch] * history["kl_loss"][epoch]
        )
        assert math.isclose(history["loss"][epoch], total, rel_tol=1e-4)
    test = run["test"]
    assert math.isclose(test["bits_per_dim"], test["negative_elbo"] / (3072 * math.log(2)))
    summary = vae_job["results"]["summary"]
    assert summary["runs"] == 1 and summary["negative_elbo_mean"] == test["negative_elbo"]
    assert "images" not in vae_job["results"]  # served as pictures, not in the record


def test_a_job_says_what_tensorflow_trained_it_on(vae_job: dict) -> None:
    # ["CPU"] on a machine whose TensorFlow sees no GPU, as CI's; else each GPU's name.
    assert vae_job["results"]["devices"] == devices() != []


def test_the_vae_report_reads_its_curves_and_shows_its_pictures(
    jobs_client: httpx.Client, vae_job: dict
) -> None:
    page = jobs_client.get(f"/jobs/{vae_job['id']}/report")
    assert page.status_code == 200
    assert "curves/terms.png" in page.text and "the reconstruction term fell" in page.text
    assert f"<td>trained on</td><td>{', '.join(devices())}</td>" in page.text
    for name in ("reconstructions", "samples"):
        assert f"images/{name}.png" in page.text
        picture = jobs_client.get(f"/jobs/{vae_job['id']}/images/{name}.png")
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    terms = jobs_client.get(f"/jobs/{vae_job['id']}/curves/terms.png")
    assert terms.content.startswith(b"\x89PNG") and len(terms.content) > 5000


def test_the_kl_vs_ce_job_has_no_vae_pictures(jobs_client: httpx.Client) -> None:
    answer = jobs_client.get("/jobs/" + "0" * 32 + "/images/samples.png")
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"beta": -1}, ["body", "beta"]),
        ({"latent_dim": 0}, ["body", "latent_dim"]),
        ({"learning_rate": 0}, ["body", "learning_rate"]),
        ({"losses": ["kl"]}, ["body", "losses"]),  # a parameter of the other experiment
        ({"epochs": 501}, ["body", "epochs"]),  # over DIVERGENCE_MAX_EPOCHS
        ({"train_limit": 50_001}, ["body", "train_limit"]),
    ],
)
def test_bad_vae_parameters_are_422_naming_the_field(
    jobs_client: httpx.Client, params: dict, loc: list
) -> None:
    answer = jobs_client.post("/jobs", json={**VAE, **params})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == loc


def test_the_vae_is_listed_among_the_experiments(jobs_client: httpx.Client) -> None:
    listed = {e["name"]: e for e in jobs_client.get("/experiments").json()}
    vae = listed["vae-cifar10"]
    assert vae["defaults"]["latent_dim"] == 32 and vae["defaults"]["beta"] == 1.0
    assert "kl_warmup_epochs" in vae["parameters"]["properties"]
