"""A batch given as logits against the same batch given as probabilities, end to end over
HTTP: ``POST /kl/batch`` with an Arrow IPC stream body and answer, and the Open Inference
Protocol's ``POST /v2/models/kl/infer`` with binary tensors.

    python benchmarks/batch_formats.py [--rows 100000] [--cols 100] [--repeats 5] [--markdown]

Logits z and w are rows x cols float64 drawn from a normal distribution (seed 0, scale 2);
the probabilities are their softmax, computed once beforehand, so both requests ask for the
same KL divergences (checked to agree to 1e-12) over bodies of the same size (160 MB for
100,000 x 100). The service runs as ``python -m service serve`` on a free loopback port with
``DIVERGENCE_MAX_BODY_BYTES`` raised to fit; TensorFlow is warmed up, and one untimed round
compiles each kernel, then the two formats take turns, request by request, sent with the
standard library's http.client. Figure of merit: the median time of logits over that of
probabilities, per transport (target <= 1.3x).
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from time import perf_counter

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    ARROW_STREAM,
    arrow_body,
    machine_note,
    markdown_option,
    post_bytes,
    running,
    say,
    service_argv,
    table,
    v2_body,
    wait_for_tensorflow,
)

LOGITS = {"p_format": "logits", "q_format": "logits"}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def values(transport: str, answer: bytes, rows: int) -> np.ndarray:
    if transport == "arrow":
        return pa.ipc.open_stream(answer).read_all().column("kl").to_numpy()
    return np.frombuffer(answer[-8 * rows :], dtype="<f8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    markdown_option(parser)
    args = parser.parse_args()
    md = args.markdown
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (args.rows, args.cols))
    w = rng.normal(0, 2, (args.rows, args.cols))
    p, q = softmax(z), softmax(w)
    query = "?" + "&".join(f"{k}={v}" for k, v in LOGITS.items())
    arrow_headers = {"content-type": ARROW_STREAM, "accept": ARROW_STREAM}
    requests = {
        ("arrow", "probabilities"): ("/kl/batch", arrow_body(p, q), arrow_headers),
        ("arrow", "logits"): ("/kl/batch" + query, arrow_body(z, w), arrow_headers),
        ("v2", "probabilities"): ("/v2/models/kl/infer", *v2_body(p, q)),
        ("v2", "logits"): ("/v2/models/kl/infer", *v2_body(z, w, LOGITS)),
    }
    largest = max(len(body) for _, body, _ in requests.values())
    times: dict[tuple[str, str], list[float]] = {key: [] for key in requests}
    with tempfile.TemporaryDirectory(prefix="batch-formats-") as tmp:
        env = {
            "DIVERGENCE_DATA_DIR": str(Path(tmp) / "data"),
            "DIVERGENCE_MAX_BODY_BYTES": str(largest + 2**20),
            "DIVERGENCE_MAX_BATCH_ROWS": str(args.rows),
        }
        with running("service", service_argv(), Path(tmp), env) as server:
            wait_for_tensorflow(server.url)
            for round_ in range(args.repeats + 1):  # the first round compiles, untimed
                answers = {}
                for key, (path, body, headers) in requests.items():
                    started = perf_counter()
                    code, answer = post_bytes(server.url + path, body, headers)
                    elapsed = perf_counter() - started
                    if code != 200:
                        raise RuntimeError(f"{key} answered {code}: {answer[:500]!r}")
                    answers[key] = values(key[0], answer, args.rows)
                    if round_:
                        times[key].append(elapsed)
                for transport in ("arrow", "v2"):
                    given, logits = (
                        answers[transport, "probabilities"],
                        answers[transport, "logits"],
                    )
                    if not np.allclose(logits, given, rtol=1e-12, atol=0):
                        raise RuntimeError(f"{transport}: logits and probabilities disagree")
            note = machine_note()
    say(
        f"POST /kl/batch (Arrow in and out) and /v2/models/kl/infer (binary tensors): "
        f"{args.rows:,} x {args.cols} float64 p and q ({largest / 2**20:.0f} MB bodies), "
        f"as probabilities and as logits; best and median of {args.repeats}",
        markdown=md,
    )
    rows = []
    verdicts = []
    for transport in ("arrow", "v2"):
        base = statistics.median(times[transport, "probabilities"])
        for given in ("probabilities", "logits"):
            seconds = times[transport, given]
            median = statistics.median(seconds)
            rows.append(
                [
                    f"{transport}, {given}",
                    f"{1000 * min(seconds):.0f}",
                    f"{1000 * median:.0f}",
                    f"{median / base:.2f}",
                ]
            )
        ratio = statistics.median(times[transport, "logits"]) / base
        verdicts.append(
            f"{transport}: logits / probabilities {ratio:.2f}x median "
            f"(target <= 1.3x: {'met' if ratio <= 1.3 else 'MISSED'})"
        )
    print(table(["request", "best ms", "median ms", "x probabilities"], rows, markdown=md))
    for verdict in verdicts:
        say(verdict, markdown=md)
    say(note, markdown=md)


if __name__ == "__main__":
    main()
