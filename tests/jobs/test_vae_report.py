"""The VAE report's one sentence: what its curves say, in the nats they show."""

from service.jobs.vae_report import reading


def history(reconstruction: list[float], kl: list[float], beta: list[float]) -> dict:
    loss = [r + b * k for r, k, b in zip(reconstruction, kl, beta, strict=True)]
    return {
        "val_reconstruction_loss": reconstruction,
        "val_kl_loss": kl,
        "val_loss": loss,
        "beta": beta,
    }


def test_a_rising_kl_that_buys_more_reconstruction_is_said_to() -> None:
    said = reading(history([2000.0, 1900.0, 1850.0], [10.0, 25.0, 40.0], [1.0, 1.0, 1.0]))
    assert "the KL term rose from 10.0 to 40.0" in said
    assert "more than a nat of reconstruction (150.0 for 30.0)" in said
    assert "the total went from 2010.0 to 1890.0" in said


def test_a_kl_that_rose_by_more_than_it_bought_under_warm_up_is_said_to() -> None:
    said = reading(history([2000.0, 1990.0], [5.0, 40.0], [0.25, 0.5]))
    assert "beta_t grew from 0.25 to 0.5" in said
    assert "rose by more nats (35.0) than the reconstruction fell (10.0)" in said


def test_both_terms_falling_is_said_plainly() -> None:
    said = reading(history([2000.0, 1950.0], [30.0, 20.0], [1.0, 1.0]))
    assert "both terms fell" in said


def test_one_epoch_is_too_few_to_read() -> None:
    assert reading(history([2000.0], [10.0], [1.0])) == "The terms need two epochs to be read."
