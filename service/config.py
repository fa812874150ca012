"""The one settings object: environment variables prefixed ``DIVERGENCE_``."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; every field is read from ``DIVERGENCE_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DIVERGENCE_", frozen=True)

    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Largest request body.")
    max_vector_length: int = Field(1_000_000, gt=0, description="Most elements in one vector.")
    max_batch_rows: int = Field(1_000_000, gt=0, description="Most rows in one batch.")
    sum_tolerance: float = Field(
        1e-6, gt=0, lt=1, description="How far from 1 a vector's sum may be without normalize."
    )
    warm_tensorflow: bool = Field(
        True, description="Import TensorFlow at start-up, off the request path."
    )
    log_level: str = Field("info", description="uvicorn's log level.")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
