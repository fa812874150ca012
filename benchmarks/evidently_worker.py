"""Evidently's data-drift preset on two Parquet tables, timed; run by ``drift_evidently.py``.

Runs in its own virtual environment (``.venv-bench``: Evidently 0.7, pandas, pyarrow),
never the service's: Evidently must not enter the service's lock file.

    .venv-bench/bin/python benchmarks/evidently_worker.py REFERENCE CURRENT SPEC

SPEC is JSON: ``{"numerical": [names], "categorical": [names], "rows": N or null,
"seed": S}``; with ``rows``, both tables are subsampled (without replacement) to N rows
first. Prints one JSON object: the seconds of ``Report.run`` (the tables already in
memory as pandas DataFrames), of reading the files, and per column Evidently's method,
threshold, score and verdict, and the dataset's verdict (its drifted share against 0.5).
"""

import json
import sys
import time

import pandas as pd


def main() -> None:
    reference_path, current_path, spec_text = sys.argv[1:4]
    spec = json.loads(spec_text)
    started = time.perf_counter()
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    if spec.get("rows"):
        reference = reference.sample(n=spec["rows"], random_state=spec["seed"])
        current = current.sample(n=spec["rows"], random_state=spec["seed"] + 1)
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    import_seconds = time.perf_counter() - started
    definition = DataDefinition(
        numerical_columns=spec["numerical"], categorical_columns=spec["categorical"]
    )
    started = time.perf_counter()
    report = Report([DataDriftPreset()])
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    run_seconds = time.perf_counter() - started

    columns: dict[str, dict[str, object]] = {}
    dataset: dict[str, object] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        kind = config.get("type", "")
        if kind.endswith("ValueDrift"):
            score, threshold = float(metric["value"]), float(config["threshold"])
            method = str(config.get("method"))
            # Evidently's tests score either a distance (drift at or above the threshold)
            # or a p-value (drift below it), which it names "... p_value".
            drifted = score < threshold if "p_value" in method else score >= threshold
            columns[config["column"]] = {
                "method": method,
                "threshold": threshold,
                "score": score,
                "drifted": drifted,
            }
        elif kind.endswith("DriftedColumnsCount"):
            value = metric["value"]
            share = float(value["share"])
            dataset = {
                "drifted_columns": int(value["count"]),
                "drifted_share": share,
                "drift": share >= float(config.get("drift_share", 0.5)),
            }
    print(
        json.dumps(
            {
                "run_seconds": run_seconds,
                "read_seconds": read_seconds,
                "import_seconds": import_seconds,
                "rows": [len(reference), len(current)],
                "columns": columns,
                "dataset": dataset,
            }
        )
    )


if __name__ == "__main__":
    main()
