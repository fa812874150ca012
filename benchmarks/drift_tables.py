"""Drift of a 1,000,000-row table against a profile: ``POST /profiles/{id}/drift`` end to
end over HTTP, with an Arrow IPC stream body and with a Parquet body, against computing the
same cells and scores with numpy and scipy in process; the server's peak memory for the
request; and Evidently's data-drift preset on the same tables, in the same run.

    .venv/bin/python benchmarks/drift_tables.py [--rows 1000000] [--repeats 5] [--markdown]
        [--evidently-rows N] [--evidently-python PATH] [--no-evidently]

The tables (``drift_data.py``, seeded): a reference and a current table of ``--rows`` rows,
20 numeric columns of varied distributions, four of them shifted or spread in the current
table, and 5 string columns, one reshuffled and one with unseen categories. The reference
is profiled once over HTTP (``POST /profiles``, timed once, not in the ratios).

Timed side by side, taking turns, ``--repeats`` rounds after one untimed round (best and
median; ``drift_measure.py``): the drift request with the Arrow body and with the Parquet
body; the bare app of ``benchmarks/bare_app.py`` reading the Arrow body (the floor HTTP
alone costs); and the baseline (``drift_baseline.py``): numpy and scipy in process from
the same bytes, without the service's code. The baseline's reference summaries are checked
equal to the service's profile, its scores and p-values to the service's answer (1e-9
relative), its W1 against ``scipy.stats.wasserstein_distance`` at start; the service's own
stages are timed in process too, for the breakdown.
Targets: HTTP at most 2x the baseline; the server's peak memory during the request at
most 3x the payload (``drift_memory.py``): its VmHWM, reset just before, less its VmRSS
then (the largest of all rounds, the untimed one included), and, each request sent once
more as the first of a freshly started server, less that server's idle VmRSS.

Evidently (0.7, ``drift_evidently.py``) runs in its own venv, ``.venv-bench`` (or
``--evidently-python``), after the HTTP timings (the server stopped): ``Report([
DataDriftPreset()]).run`` on pandas DataFrames of the two tables, timed inside the worker
(reading the files is not timed). With ``--evidently-rows`` both tables are subsampled
first. Where Evidently cannot be installed, that part is skipped with a note.
"""

import argparse
import tempfile
from pathlib import Path
from statistics import median
from typing import Any

from _harness import machine_note, markdown_option, say, table
from drift_baseline import baseline_from_arrow, check_w1, largest_differences, reference_of
from drift_data import CATEGORICAL, NUMERIC, make_bodies, make_tables
from drift_evidently import evidently_python, run_evidently
from drift_measure import (
    ARROW_BASE,
    ARROW_HTTP,
    FLOOR,
    PARQUET_BASE,
    PARQUET_HTTP,
    Measured,
    measure,
    service_stages,
)

TIME_TARGET, MEMORY_TARGET = 2.0, 3.0


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f}"


def memory(grown: int, body: int) -> str:
    return f"{grown / 2**20:,.0f} MiB = {grown / body:.2f}x body"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--evidently-rows", type=int, default=None, help="subsample both tables for Evidently"
    )
    parser.add_argument(
        "--evidently-python", default=None, help="an interpreter with Evidently 0.7"
    )
    parser.add_argument("--no-evidently", action="store_true", help="skip Evidently")
    markdown_option(parser)
    args = parser.parse_args()

    w1_check = check_w1()
    reference_table, current_table = make_tables(args.rows)
    bodies = make_bodies(reference_table, current_table)
    reference = reference_of(reference_table)
    expected = baseline_from_arrow(bodies["current arrow"], reference)
    with tempfile.TemporaryDirectory(prefix="drift-tables-") as tmp:
        workdir = Path(tmp)
        measured = measure(bodies, reference, args.repeats, workdir)
        note = machine_note()
        stages = service_stages(bodies, measured.profile, args.repeats)
        evidently: dict[str, Any] | None = None
        why_not = ""
        if args.no_evidently:
            why_not = "skipped (--no-evidently)"
        else:
            python, version = evidently_python(args.evidently_python)
            if python is None:
                why_not = f"skipped: {version}"
            else:
                evidently = run_evidently(python, bodies, args.evidently_rows, workdir)
                evidently["version"] = version

    differences = {
        name: largest_differences(answer, expected) for name, answer in measured.answers.items()
    }
    times = {**measured.times, **stages}
    md = args.markdown
    report_times(args.rows, args.repeats, bodies, measured, times, list(stages), evidently, md)
    say(
        "Baseline = service: the reference's edges, counts, quantiles and std equal the "
        "profile's; largest relative difference of the scores "
        + ", ".join(f"{d[0]:.1e}" for d in differences.values())
        + " and of the p-values "
        + ", ".join(f"{d[1]:.1e}" for d in differences.values())
        + f" (Arrow, Parquet); W1 of the baseline vs scipy.stats.wasserstein_distance "
        f"{w1_check:.1e}.",
        markdown=md,
    )
    answer = measured.answers[ARROW_HTTP]
    dataset = answer["dataset"]
    say(
        f"Service verdict: {dataset['drifted_columns']} of {dataset['columns']} columns drifted "
        f"(share {dataset['drifted_share']:.2f}; dataset drift {dataset['drift']}).",
        markdown=md,
    )
    if evidently is None:
        say(f"Evidently: {why_not}.", markdown=md)
    else:
        report_evidently(evidently, answer, times[ARROW_HTTP], measured.profile_seconds, md)
    say(note, markdown=md)


def report_times(
    rows: int,
    repeats: int,
    bodies: dict[str, bytes],
    measured: Measured,
    times: dict[str, list[float]],
    stages: list[str],
    evidently: dict[str, Any] | None,
    md: bool,
) -> None:
    """The table of times and memory, and each drift request against its targets. Every
    row's ratio is its median over its baseline's median: the Parquet request's baseline is
    the Parquet baseline, every other row's the Arrow baseline (which has no ratio)."""
    base = {
        ARROW_HTTP: ARROW_BASE,
        PARQUET_HTTP: PARQUET_BASE,
        FLOOR: ARROW_BASE,
        PARQUET_BASE: ARROW_BASE,
        **dict.fromkeys(stages, ARROW_BASE),
    }
    arrow_size, parquet_size = len(bodies["current arrow"]), len(bodies["current parquet"])
    body_size = {ARROW_HTTP: arrow_size, PARQUET_HTTP: parquet_size}
    say(
        f"{rows:,} rows x {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical columns "
        f"against a profile of a {rows:,}-row reference; Arrow body "
        f"{arrow_size / 2**20:,.0f} MiB, Parquet body {parquet_size / 2**20:,.0f} MiB; best and "
        f"median of {repeats}; server idle at {measured.idle / 2**20:,.0f} MiB resident",
        markdown=md,
    )
    lines = []
    for name in (ARROW_BASE, PARQUET_BASE, ARROW_HTTP, PARQUET_HTTP, FLOOR, *stages):
        seconds = times[name]
        cell = f"{median(seconds) / median(times[base[name]]):.2f}" if name in base else ""
        peak, over_idle = "", ""
        if name in measured.peaks:
            peak = memory(max(measured.peaks[name]), body_size[name])
            over_idle = memory(measured.fresh[name], body_size[name])
        lines.append([name, ms(min(seconds)), ms(median(seconds)), cell, peak, over_idle])
    profile_memory = memory(measured.profile_peak, len(bodies["reference arrow"]))
    profile_row = ["POST /profiles, Arrow body (once)", ms(measured.profile_seconds)]
    lines.append([*profile_row, "", "", "", profile_memory])
    if evidently is not None:
        label = f"Evidently {evidently['version']} DataDriftPreset, Report.run"
        if evidently["rows"][0] != rows:
            label += f" (on a {evidently['rows'][0]:,}-row subsample of each table)"
        run = evidently["run_seconds"]
        cell = f"{run / median(times[ARROW_HTTP]):.2f} x Arrow HTTP"
        lines.append([label, ms(run), "", cell, "", ""])
    headers = [
        "",
        "best ms",
        "median ms",
        "x baseline (median)",
        "server peak - RSS just before",
        "server peak - idle RSS (fresh server)",
    ]
    print(table(headers, lines, markdown=md))

    for name in (ARROW_HTTP, PARQUET_HTTP):
        ratio = median(times[name]) / median(times[base[name]])
        best = min(times[name]) / min(times[base[name]])
        growth = max(measured.peaks[name]) / body_size[name]
        worst = measured.fresh[name] / body_size[name]
        say(
            f"{name}: {ratio:.2f}x its baseline (median; {best:.2f}x best; target <= "
            f"{TIME_TARGET:g}x: "
            f"{'met' if ratio <= TIME_TARGET else 'MISSED'}); peak memory {growth:.2f}x its "
            f"body over the RSS just before (target <= {MEMORY_TARGET:g}x: "
            f"{'met' if growth <= MEMORY_TARGET else 'MISSED'}), {worst:.2f}x over a "
            "freshly started server's",
            markdown=md,
        )
    say(
        "Against the table's Arrow size (the data decoded), the Parquet request's peak is "
        f"{max(measured.peaks[PARQUET_HTTP]) / arrow_size:.2f}x (RSS just before) and "
        f"{measured.fresh[PARQUET_HTTP] / arrow_size:.2f}x (fresh server). Over the RSS just "
        "before: the largest of all rounds, whose RSS holds what the allocators kept from "
        "the requests before; over a fresh server: its first request, lazy imports included.",
        markdown=md,
    )


def report_evidently(
    evidently: dict[str, Any],
    answer: dict[str, Any],
    http: list[float],
    profile_seconds: float,
    md: bool,
) -> None:
    """Per column the service's and Evidently's scores and verdicts, Evidently's time
    against the service's, and where the two disagree."""
    lines, disagree = [], []
    for name, column in answer["columns"].items():
        theirs = evidently["columns"][name]
        same = theirs["drifted"] == column["drifted"]
        if not same:
            disagree.append(name)
        lines.append(
            [
                name,
                f"{column['method']} {column['score']:.4f}",
                "drifted" if column["drifted"] else "-",
                f"{theirs['method']} {theirs['score']:.4f}",
                "drifted" if theirs["drifted"] else "-",
                "yes" if same else "NO",
            ]
        )
    headers = ["column", "service score", "service", "Evidently score", "Evidently", "agree"]
    print(table(headers, lines, markdown=md))
    run, http_median = evidently["run_seconds"], median(http)
    say(
        f"Evidently {evidently['version']} (Report.run on DataFrames of "
        f"{evidently['rows'][0]:,} rows each, reading the Parquet files not counted): "
        f"{run:.1f} s = {run / http_median:.1f}x the service's drift request (Arrow, median), "
        f"{run / (http_median + profile_seconds):.1f}x profile + drift (Evidently reads both "
        "tables each time; the service profiles the reference once).",
        markdown=md,
    )
    listed = "; ".join(
        f"{name}: service {answer['columns'][name]['score']:.4f}, "
        f"Evidently {evidently['columns'][name]['score']:.4f}"
        for name in disagree
    )
    theirs = evidently["dataset"]
    say(
        f"Verdicts: {len(lines) - len(disagree)} of {len(lines)} columns agree"
        + (f" (disagree: {listed})" if disagree else "")
        + f"; dataset drift: service {answer['dataset']['drift']}, Evidently {theirs['drift']} "
        f"({theirs['drifted_columns']} columns drifted). Evidently's Jensen-Shannon distance "
        "is in nats (scipy's default base), the service's in bits: its categorical scores are "
        "sqrt(ln 2) = 0.83 times the service's; its Wasserstein distance uses the whole "
        "reference, the service's the reference's 1,000 quantiles.",
        markdown=md,
    )


if __name__ == "__main__":
    main()
