"""The outcomes service's settings, read from the environment once, at start-up, and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import ServiceSettings, env


@dataclass(frozen=True)
class OutcomesSettings:
    service: ServiceSettings
    link_days: int = 14  # `OUTCOMES_LINK_DAYS`: how long a feedback link works
    instrument_dir: Path | None = (
        None  # `OUTCOMES_INSTRUMENT_DIR`: a council's licensed instruments
    )

    @classmethod
    def from_env(cls) -> OutcomesSettings:
        folder = env("OUTCOMES_INSTRUMENT_DIR")
        return cls(
            service=ServiceSettings.from_env("outcomes"),
            link_days=int(env("OUTCOMES_LINK_DAYS", "14") or "14"),
            instrument_dir=Path(folder) if folder else None,
        )
