"""The one settings object: environment variables prefixed ``DIVERGENCE_``."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; every field is read from ``DIVERGENCE_<FIELD NAME>``."""

    # An empty variable counts as unset (DIVERGENCE_CIFAR10_DIR= means: use Keras).
    model_config = SettingsConfigDict(env_prefix="DIVERGENCE_", frozen=True, env_ignore_empty=True)

    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Largest request body.")
    max_vector_length: int = Field(1_000_000, gt=0, description="Most elements in one vector.")
    max_batch_rows: int = Field(1_000_000, gt=0, description="Most rows in one batch.")
    max_sample_rows: int = Field(
        100_000, gt=0, description="Most rows in one sample (x or y) of POST /samples/..."
    )
    max_table_rows: int = Field(
        1_000_000, gt=0, description="Most rows in one table of POST /profiles or its drift."
    )
    sum_tolerance: float = Field(
        1e-6, gt=0, lt=1, description="How far from 1 a vector's sum may be without normalize."
    )
    stream_chunk_rows: int = Field(
        4096, gt=0, description="Rows of an NDJSON stream scored together (bounds memory)."
    )
    stream_chunk_bytes: int = Field(
        16 * 1024 * 1024,
        gt=0,
        description="Bytes of parsed numbers (8 per element of p and q) at which a chunk of "
        "an NDJSON stream is scored, if it reaches them before stream_chunk_rows; a chunk "
        "holds at least one row. Bounds a stream's memory when rows are wide.",
    )
    warm_tensorflow: bool = Field(
        True, description="Import TensorFlow at start-up, off the request path."
    )
    fast_paths: bool = Field(
        True,
        description="The fast paths: the POST /kl fast lane and plain-pair shortcut, and the "
        "XLA-compiled chunks of large batches. Off, every request takes the plain path (the "
        "same values, slower): to check the fast paths against it.",
    )
    log_level: str = Field("info", description="uvicorn's log level.")
    opentelemetry: bool = Field(
        False,
        description="FastAPI's native OpenTelemetry traces and metrics (for a process with an "
        "OpenTelemetry SDK configured); off, requests skip its per-request checks.",
    )

    data_dir: Path = Field(Path("data"), description="Where job records and the queue live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the job records; SQLite in data_dir by default."
    )
    queue_url: str | None = Field(
        None, description="redis://... to put the queue on Redis; SQLite in data_dir by default."
    )
    embedded_worker: bool = Field(
        True, description="Run a training worker inside `serve` (off: `serve --no-worker`)."
    )
    cifar10_dir: Path | None = Field(
        None,
        description="Local CIFAR-10 (cifar-10-batches-py or train/<class>/ image folders);"
        " unset: Keras' own download.",
    )
    heartbeat_seconds: float = Field(2.0, gt=0, description="How often a running job beats.")
    stale_after_seconds: float = Field(
        30.0, gt=0, description="A running job without a heartbeat this long has lost its worker."
    )
    cancel_grace_seconds: float = Field(
        10.0, ge=0, description="After SIGTERM, how long a cancelled training may take to stop."
    )
    training_nice: int = Field(
        10, ge=0, le=19, description="Niceness of training processes: the API keeps its CPU."
    )
    max_epochs: int = Field(200, gt=0, description="Largest epochs a job may ask for.")
    max_runs: int = Field(10, gt=0, description="Largest runs per loss a job may ask for.")
    max_train_batch_size: int = Field(4096, gt=0, description="Largest training batch size.")

    api_keys: str = Field(
        "", repr=False, description="Comma-separated API keys; when set, job endpoints need one."
    )
    require_key_for_divergences: bool = Field(
        False, description="With api_keys set, require a key on the divergence endpoints too."
    )
    job_submissions_per_minute: int = Field(
        10, gt=0, description="Jobs one client (key, else address) may submit per minute."
    )
    max_queued_jobs_per_client: int = Field(
        5, gt=0, description="Jobs one client may have waiting in the queue at once."
    )
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed by CORS; empty: CORS closed."
    )

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def job_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'jobs.db'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
