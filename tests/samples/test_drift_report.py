"""The drift report: an escaped HTML page with the verdicts, and per-column pictures in the
reference's and the current's colours."""

import io
from typing import Any
from urllib.parse import quote

import numpy as np
from PIL import Image

from service.samples.drift_report import column_png, report_html

BLUE = np.array([0x1F, 0x77, 0xB4])  # matplotlib's tab:blue, the reference
ORANGE = np.array([0xFF, 0x7F, 0x0E])  # tab:orange, the current
SCRIPT = "<script>alert(1)</script>"


def numeric(**changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    edges = np.quantile(rng.normal(size=2000), np.linspace(0, 1, 11))
    reference = [0, *np.histogram(rng.normal(size=2000), edges)[0].tolist(), 0]
    column = {
        "kind": "numeric",
        "method": "wasserstein",
        "score": 0.42,
        "finite": True,
        "threshold": 0.1,
        "drifted": True,
        "p_value": 1.5e-9,
        "unit": "reference standard deviations",
        "rows": 1000,
        "unseen": [],
        "unseen_share": 0.0,
        "outside_share": 0.05,
        "cells": {
            "reference": reference,
            "current": [20, 50, 60, 80, 100, 120, 140, 150, 130, 80, 40, 30],
        },
        "edges": edges.tolist(),
    }
    return column | changes


def categorical(categories: int = 4, unseen: int = 1, **changes: Any) -> dict[str, Any]:
    labels = [f"label {i}" for i in range(categories + unseen)]
    reference = [100 - i % 90 for i in range(categories)] + [0] * unseen
    current = [80 + i % 50 for i in range(categories)] + [30 + i for i in range(unseen)]
    column = {
        "kind": "categorical",
        "method": "js_distance",
        "score": 0.05,
        "finite": True,
        "threshold": 0.1,
        "drifted": False,
        "p_value": 0.31,
        "unit": "bits",
        "rows": sum(current),
        "unseen": [
            {"category": labels[categories + i], "count": current[categories + i]}
            for i in range(unseen)
        ],
        "unseen_share": sum(current[categories:]) / sum(current),
        "outside_share": 0.0,
        "cells": {"reference": reference, "current": current},
        "labels": labels,
    }
    return column | changes


def record(columns: dict[str, dict[str, Any]], drift: bool = True) -> dict[str, Any]:
    drifted = sum(c["drifted"] for c in columns.values())
    return {
        "id": "d-1",
        "profile_id": "p-1",
        "profile_name": "orders <2026>",
        "created_at": "2026-11-30T08:00:00+00:00",
        "columns": columns,
        "dataset": {
            "drift": drift,
            "drifted_share": drifted / len(columns),
            "drift_share": 0.5,
            "drifted_columns": drifted,
            "columns": len(columns),
        },
        "ignored": ["extra & more"],
    }


def page(columns: dict[str, dict[str, Any]], drift: bool = True) -> str:
    return report_html(record(columns, drift), picture_url=lambda n: f"pictures/{quote(n)}.png")


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB")).astype(int)


def pixels_near(image: np.ndarray, colour: np.ndarray) -> int:
    return int((np.abs(image - colour).sum(axis=-1) < 40).sum())


def test_column_names_and_labels_are_escaped_on_the_page() -> None:
    column = categorical(unseen=1)
    column["unseen"] = [{"category": SCRIPT, "count": 3}]
    text = page({SCRIPT: column})
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "orders &lt;2026&gt;" in text
    assert "extra &amp; more" in text


def test_page_says_the_dataset_verdict_in_words() -> None:
    drifted = page({"price": numeric(), "city": categorical()}, drift=True)
    assert "Dataset drift: 1 of 2 columns drifted (50%)" in drifted
    calm = page({"city": categorical()}, drift=False)
    assert "No dataset drift: 0 of 1 columns drifted (0%)" in calm


def test_table_marks_drifted_columns_and_shows_scores_thresholds_and_p_values() -> None:
    text = page({"price": numeric(), "city": categorical()})
    assert text.count("<tr class='drifted'>") == 1
    assert "<td class='yes'>drifted</td>" in text and "<td class='no'>no</td>" in text
    assert "0.42 <small>reference standard deviations</small>" in text
    assert "1.5e-09" in text and "0.31" in text
    assert "5% of rows outside the reference range" in text


def test_a_null_score_reads_infinite() -> None:
    text = page({"city": categorical(method="kl", score=None, finite=False, drifted=True)})
    assert "infinite" in text


def test_a_missing_p_value_reads_not_available() -> None:
    assert "<td>n/a</td>" in page({"city": categorical(p_value=None)})


def test_unseen_categories_show_the_first_few_with_counts_and_how_many_more() -> None:
    text = page({"city": categorical(unseen=8)})
    assert "label 4 (30)" in text and "label 8 (34)" in text
    assert "label 9 (" not in text
    assert "and 3 more" in text


def test_each_column_has_a_heading_and_its_picture_url() -> None:
    text = page({"a b/c": numeric(), SCRIPT: categorical()})
    assert '<img src="pictures/a%20b/c.png"' in text
    assert f'<img src="pictures/{quote(SCRIPT)}.png"' in text
    assert "<h3>a b/c — drifted</h3>" in text
    assert 'alt="Reference and current distributions of a b/c"' in text


def test_numeric_picture_draws_reference_in_blue_and_current_in_orange() -> None:
    image = pixels(column_png("price", numeric()))
    assert image.shape == (420, 700, 3)
    assert pixels_near(image, BLUE) > 500
    assert pixels_near(image, ORANGE) > 500


def test_categorical_picture_draws_both_colours() -> None:
    image = pixels(column_png("city", categorical()))
    assert pixels_near(image, BLUE) > 2000
    assert pixels_near(image, ORANGE) > 2000


def test_a_constant_reference_is_drawn_as_bars_of_shares() -> None:
    column = numeric(edges=[3.0, 3.0], cells={"reference": [0, 50, 0], "current": [5, 40, 5]})
    image = pixels(column_png("constant", column))
    assert pixels_near(image, BLUE) > 2000
    assert pixels_near(image, ORANGE) > 2000


def test_a_column_with_200_categories_renders() -> None:
    image = pixels(column_png("many", categorical(categories=190, unseen=10)))
    assert pixels_near(image, BLUE) > 500
    assert pixels_near(image, ORANGE) > 500


def test_names_with_dollar_signs_and_underscores_render_as_plain_text() -> None:
    column = categorical()
    column["labels"] = ["$x^$", "_hidden", "a" * 80, "\\frac{", "new"]
    assert pixels(column_png("$\\alpha_$ price", column)).size > 0
