"""Request and response bodies of the profile and drift endpoints (the HTTP contract).

Table columns are read as plain JSON values here and checked by :mod:`.tables`, which names
the column and the first offending row instead of one error per element.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, WithJsonSchema, model_validator

from service.samples.profiles import DEFAULT_BINS
from service.samples.schemas import MAX_PRIOR, Prior

MAX_PROFILE_BINS = 1_000

Kind = Literal["numeric", "categorical"]
Columns = Annotated[
    dict[str, list[Any]],
    WithJsonSchema(
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]},
            },
            "description": "Column name to its values, all columns of one length: numbers, "
            "or strings and booleans (categories). No nulls, NaN or Infinity.",
        }
    ),
]

_REFERENCE: Any = {
    "age": [34, 51, 29, 45, 38, 62, 27, 41, 55, 33],
    "income": [41.5, 72.0, 35.2, 58.8, 49.1, 80.3, 30.9, 52.6, 66.0, 44.4],
    "city": ["Lyon", "Paris", "Paris", "Lille", "Lyon", "Paris", "Nice", "Lyon", "Paris", "Lille"],
}
_COUNTS: Any = {
    "age": {"0": 1, "4": 2, "9": 3, "15": 2, "above": 2},
    "income": {"2": 1, "8": 4, "17": 3, "above": 2},
    "city": {"Lyon": 3, "Paris": 2, "Brest": 3, "Lille": 1, "Nice": 1},
}
_CURRENT: Any = {
    "age": [36, 58, 31, 47, 40, 66, 29, 44, 59, 35],
    "income": [51.5, 82.0, 45.2, 68.8, 59.1, 90.3, 40.9, 62.6, 76.0, 54.4],
    "city": ["Lyon", "Paris", "Brest", "Lille", "Lyon", "Brest", "Nice", "Lyon", "Paris", "Brest"],
}


class TableRequest(BaseModel):
    """A body that brings a table: JSON columns, or an Arrow or Parquet body kept unread
    until the route reads it under its limits (:mod:`.table_bodies`)."""

    _body: Any = PrivateAttr(None)
    _media: str = PrivateAttr("application/json")


class ProfileRequest(TableRequest):
    """A reference table to profile: per column its kind, bins, categories and statistics."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"columns": _REFERENCE, "name": "customers 2026-10"},
                {"columns": _REFERENCE, "kinds": {"age": "categorical"}, "bins": 4},
            ]
        },
    )

    columns: Columns
    name: str | None = Field(None, max_length=200, description="A name for people.")
    kinds: dict[str, Kind] = Field(
        default_factory=dict,
        description="Overrides of the inferred kind, by column. Inferred: strings and "
        "booleans are categorical; numbers numeric, except integers with at most 20 "
        "distinct values each seen 5 times on average (codes, ratings): categorical.",
    )
    bins: int = Field(
        DEFAULT_BINS,
        ge=1,
        le=MAX_PROFILE_BINS,
        description="Equal-frequency bins of each numeric column (at its quantiles).",
    )


class ColumnMethod(BaseModel):
    """How one column is compared with its reference."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(
        None,
        description="wasserstein (numeric), psi, or a divergence of GET /divergences "
        "(js_distance, kl, hellinger, ...) on the bins or categories; by default "
        "wasserstein for numeric columns, js_distance (bits) for categorical ones.",
        examples=["psi"],
    )
    threshold: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="The score at or above which the column drifted; by default 0.1 (psi: 0.2).",
    )
    prior: Prior | Annotated[float, Field(ge=0, le=MAX_PRIOR, allow_inf_nan=False)] = Field(
        "none",
        description="A pseudo-count added to every bin or category before a divergence "
        "(none, jeffreys 1/2, laplace 1, or a number); never a hidden epsilon.",
    )


class DriftRequest(TableRequest):
    """A current table with the profile's columns, compared column by column."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"columns": _CURRENT},
                {
                    "columns": _CURRENT,
                    "methods": {"income": {"method": "psi", "threshold": 0.25}},
                    "drift_share": 0.3,
                },
                {"counts": _COUNTS},
            ]
        },
    )

    columns: Columns | None = None
    counts: dict[str, dict[str, int]] | None = Field(
        None,
        description="Instead of columns: the rows counted per cell where the data lives "
        "(docs/drift.md): for a numeric column of k bins the cells below, 0 to k-1 and "
        "above; for a categorical one its categories. Scored by js_distance by default.",
    )
    methods: dict[str, ColumnMethod] = Field(
        default_factory=dict, description="Per column: method, threshold and prior."
    )
    drift_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="The dataset drifted when at least this share of its columns did.",
    )

    @model_validator(mode="after")
    def _one_table(self) -> Self:
        if (self.columns is None) == (self.counts is None):
            raise ValueError("give the table as columns (its values) or counts (per cell)")
        return self


class NumericProfile(BaseModel):
    kind: Literal["numeric"]
    rows: int
    edges: list[float] = Field(description="Bin edges: the reference's quantiles.")
    counts: list[int] = Field(description="Reference rows per bin (the last bin closed).")
    quantiles: list[float] = Field(description="The reference's quantiles at (i + 1/2)/M.")
    mean: float
    std: float = Field(description="Population standard deviation (ddof 0).")
    min: float
    max: float
    median: float


class CategoricalProfile(BaseModel):
    kind: Literal["categorical"]
    rows: int
    categories: list[str] = Field(description="The labels, most frequent first.")
    counts: list[int]


ColumnProfile = Annotated[NumericProfile | CategoricalProfile, Field(discriminator="kind")]


class ProfileRead(BaseModel):
    id: str
    name: str | None
    created_at: datetime
    rows: int
    columns: dict[str, ColumnProfile]


class ProfileSummary(BaseModel):
    id: str
    name: str | None
    created_at: datetime
    rows: int
    kinds: dict[str, Kind]


class ProfileList(BaseModel):
    profiles: list[ProfileSummary]
    total: int
    limit: int
    offset: int


class Unseen(BaseModel):
    category: str
    count: int


class Cells(BaseModel):
    reference: list[int]
    current: list[int]


class ColumnDrift(BaseModel):
    kind: Kind
    method: str
    score: float | None = Field(description="The method's score; null when infinite.")
    finite: bool
    threshold: float
    drifted: bool = Field(description="score >= threshold (an infinite score drifted).")
    p_value: float | None = Field(
        description="Chi-square test of homogeneity on the cells: for information, not the "
        "verdict (at large n it rejects for tiny changes). Null under two cells."
    )
    unit: str
    rows: int
    unseen: list[Unseen] = Field(description="Categories absent from the reference.")
    unseen_share: float = Field(description="Share of rows in unseen categories.")
    outside_share: float = Field(description="Share of rows outside the reference's range.")
    cells: Cells = Field(
        description="Counts per cell: numeric [below min] + bins + [above max]; "
        "categorical: the labels."
    )
    labels: list[str] | None = Field(None, description="categorical: the cells' labels.")
    edges: list[float] | None = Field(None, description="numeric: the reference's bin edges.")


class DatasetDrift(BaseModel):
    drift: bool
    drifted_share: float
    drift_share: float
    drifted_columns: int
    columns: int


class DriftRead(BaseModel):
    id: str
    profile_id: str
    created_at: datetime
    rows: int
    dataset: DatasetDrift
    columns: dict[str, ColumnDrift]
    ignored: list[str] = Field(description="Columns of the table the profile does not have.")
    report: str = Field(description="The report page for people.")


class DriftSummary(BaseModel):
    id: str
    created_at: datetime
    rows: int
    dataset: DatasetDrift
    report: str


class DriftList(BaseModel):
    reports: list[DriftSummary]
    total: int
    limit: int
    offset: int
