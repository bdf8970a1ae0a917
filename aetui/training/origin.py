"""Where a new session's weights come from (`train --from NAME[@SNAPSHOT]`, a fork): a plain
record the dashboard process can build and hand to a trainer process without loading the engine."""

from __future__ import annotations

from dataclasses import dataclass

from aetui.errors import ConfigError, SessionError
from aetui.sessions.format import check_name

# What a branch's first segment adds to its source record: the session (and its samples) the
# weights came from (training/branch.py writes them, replay passes them on).
ORIGIN_KEYS = ("session", "samples")


@dataclass(frozen=True)
class Origin:
    """Where a new session's weights come from and how they are reused."""

    session: str
    snapshot: str | None = None  # None: the source's current (last saved) weights
    activation: str | None = None  # None: the source's own activation
    weight_scale: float | None = None  # None: the restart default (x0.1 across activations)
    reset_biases: bool = True
    lr: float | None = None  # None: the activation's default

    @classmethod
    def parse(cls, spec: str, **how) -> Origin:
        """NAME or NAME@SNAPSHOT; a bad name is a ConfigError (exit 2)."""
        name, _, snapshot = spec.partition("@")
        try:
            check_name(name, "source session")
            if snapshot or spec.endswith("@"):
                check_name(snapshot, "snapshot")
        except SessionError as exc:
            raise ConfigError(f"--from {spec}: {exc}") from None
        return cls(name, snapshot or None, **how)

    @property
    def spec(self) -> str:
        return self.session if self.snapshot is None else f"{self.session}@{self.snapshot}"

    def to_dict(self) -> dict:
        return dict(self.__dict__)
