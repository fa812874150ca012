"""``DIVERGENCE_FAST_PATHS=false``: a server with its fast paths off (no /kl fast lane, no
plain-pair shortcut, no XLA-compiled chunks) answers as the usual one does: the same JSON
for POST /kl, and for a /kl/batch large enough for the XLA chunks, the same rows within
the numerics contract's 1e-12 (the compiled chunks use their own logarithm)."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from service.app import create_app
from service.core.config import Settings
from service.divergences import routes, scoring
from service.divergences.catalog import DIVERGENCES
from service.divergences.inputs import Limits
from service.divergences.schemas import KLRequest
from service.divergences.tf import engine
from tests.api.test_fast_lane import BODIES, fast_paths_off

LIMITS = Limits(max_vector_length=1000, max_batch_rows=10_000, sum_tolerance=1e-6)
COLUMNS = 100


@pytest.fixture(scope="module")
def plain_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with fast_paths_off(tmp_path_factory) as plain:
        yield plain


@pytest.mark.parametrize("name", BODIES)
def test_post_kl_answers_alike_with_the_fast_paths_off(
    client: httpx.Client, plain_client: httpx.Client, name: str
) -> None:
    fast = client.post("/kl", json=BODIES[name])
    plain = plain_client.post("/kl", json=BODIES[name])
    assert (plain.status_code, plain.json()) == (fast.status_code, fast.json())


def counts_batch(rows: int, seed: int = 11) -> dict[str, object]:
    """A /kl/batch body of small counts (normalized by the service: a compact body); in
    every tenth row a zero in q where p is positive (an infinite row), in every seventh a
    zero in p (a term that counts 0)."""
    rng = np.random.default_rng(seed)
    p, q = rng.integers(1, 10, (rows, COLUMNS)), rng.integers(1, 10, (rows, COLUMNS))
    q[::10, 3] = 0
    p[::7, 5] = 0
    return {"p": p.tolist(), "q": q.tolist(), "normalize": True}


def test_a_batch_large_enough_for_the_xla_chunks_answers_alike_with_the_fast_paths_off(
    client: httpx.Client, plain_client: httpx.Client
) -> None:
    rows = engine.XLA_MIN_ELEMENTS // COLUMNS + 500  # 1810 rows: XLA chunks where fast
    body = counts_batch(rows)
    fast, plain = client.post("/kl/batch", json=body), plain_client.post("/kl/batch", json=body)
    assert fast.status_code == plain.status_code == 200
    fast_answer, plain_answer = fast.json(), plain.json()
    assert plain_answer["finite"] == fast_answer["finite"]
    assert plain_answer["infinite_at"] == fast_answer["infinite_at"]
    assert sum(fast_answer["finite"]) == rows - len(range(0, rows, 10))
    finite = [i for i, ok in enumerate(fast_answer["finite"]) if ok]
    fast_values = np.array([fast_answer["kl"][i] for i in finite])
    plain_values = np.array([plain_answer["kl"][i] for i in finite])
    assert np.allclose(plain_values, fast_values, rtol=1e-12, atol=0)
    # Two paths indeed: the chunks' own logarithm and sums round some rows differently
    # in the last bits (about 1000 of these 1629 here).
    assert not np.array_equal(plain_values, fast_values)


@pytest.fixture
def app_with_fast_paths_off(tmp_path: Path) -> Iterator[None]:
    """An app made with ``fast_paths=False`` (the switch it sets is the process's: put back
    on afterwards)."""
    try:
        create_app(Settings(data_dir=tmp_path, warm_tensorflow=False, fast_paths=False))
        yield
    finally:
        scoring.use_fast_paths(True)


def test_an_app_made_with_fast_paths_off_takes_no_shortcut_for_post_kl(
    app_with_fast_paths_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_shortcut(*args: object, **kwargs: object) -> None:
        raise AssertionError("the plain-pair shortcut was taken")

    monkeypatch.setattr(routes, "plain_kl", no_shortcut)
    assert not scoring.fast_paths()
    answer = routes.kl_answer(KLRequest.model_validate(BODIES["plain"]), LIMITS)
    assert answer.finite and answer.kl is not None and answer.kl > 0


def test_an_app_made_with_fast_paths_off_compiles_no_chunk_for_a_large_batch(
    app_with_fast_paths_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: dict[tuple[str, int, int, int], object] = {}
    monkeypatch.setattr(engine, "_COMPILED", compiled)
    rows = engine.XLA_MIN_ELEMENTS // COLUMNS + 1
    p = np.full((rows, COLUMNS), 1 / COLUMNS)
    scores = scoring.score(DIVERGENCES["kl"], p=p, q=p, limits=LIMITS, backend="tensorflow")
    assert compiled == {}
    assert (scores.values == 0).all()
    scoring.use_fast_paths(True)
    scoring.score(DIVERGENCES["kl"], p=p, q=p, limits=LIMITS, backend="tensorflow")
    assert compiled, "with the fast paths on, the same batch is compiled in chunks"


def test_a_large_batch_of_logits_answers_alike_with_the_fast_paths_off(
    client: httpx.Client, plain_client: httpx.Client
) -> None:
    rng = np.random.default_rng(3)
    rows = engine.XLA_MIN_ELEMENTS // COLUMNS + 500
    # Two decimals: a compact body, under the test server's 4 MiB.
    z, w = (np.round(rng.normal(0, 3, (rows, COLUMNS)), 2) for _ in range(2))
    z[::9, 0] -= 800  # a probability that underflows: the numpy kernel's row
    body = {"p": z.tolist(), "q": w.tolist(), "p_format": "logits", "q_format": "logits"}
    fast = client.post("/divergences/js/batch", json=body)
    plain = plain_client.post("/divergences/js/batch", json=body)
    assert fast.status_code == plain.status_code == 200
    fast_values, plain_values = np.array(fast.json()["value"]), np.array(plain.json()["value"])
    assert np.allclose(plain_values, fast_values, rtol=1e-12, atol=0)
