"""The session store: a folder of session folders (default ./sessions)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from aetui.model.config import TrainConfig
from aetui.data import Dataset
from aetui.errors import ConfigError, SaveError, SessionError
from aetui.sessions.atomic import why
from aetui.model.state import ModelState
from aetui.sessions.format import check_header, check_name, check_record, read_json
from aetui.sessions.lineage import branch_parent, lineage_label, new_segment
from aetui.sessions.lock import SessionLock
from aetui.sessions.session import Session, read_session

DEFAULT_DIR = "sessions"


@dataclass(frozen=True)
class SessionSummary:
    """One line of `aetui sessions`, read from session.json alone."""

    name: str
    lineage: str
    samples: int
    heldout_loss: float | None
    saved: str | None
    problem: str | None = None  # set when the session cannot be read
    origin: dict | None = None  # the source record of the session it was started from (sessions/lineage.py)


class SessionStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root if root is not None else os.environ.get("AETUI_SESSIONS", DEFAULT_DIR))
        self._made_root = False  # this process created the sessions folder (a refused start removes it again)

    def command(self, *words: str) -> str:
        """The aetui command line `words` on this store, to paste from any folder: it names the
        folder unless that is $AETUI_SESSIONS (./sessions depends on where the command runs)."""
        line = " ".join(["aetui", *(shlex.quote(w) for w in words)])
        env = os.environ.get("AETUI_SESSIONS")
        if env and os.path.isabs(env) and Path(env).resolve() == self.root.resolve():
            return line
        return f"{line} --sessions-dir {shlex.quote(str(self.root.resolve()))}"

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def exists(self, name: str) -> bool:
        return (self.path(name) / "session.json").is_file()

    def check_root(self) -> None:
        """SessionError unless the sessions folder is a folder (or does not exist yet)."""
        if self.root.exists() and not self.root.is_dir():
            raise SessionError(f"the sessions folder {self.root} is a file, not a folder (see --sessions-dir)")

    def names(self) -> list[str]:
        self.check_root()
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "session.json").is_file())

    def create(self, name: str, config: TrainConfig, data: Dataset) -> Session:
        """A new session folder for `config` on `data`, saved at once so it exists on disk.

        When it cannot be written, nothing is left behind: the folder is removed again.
        """
        self.check_root()
        path = self.path(name)
        if (path / "session.json").exists():
            raise SessionError(f"session {name} already exists in {self.root}")
        if path.exists() and any(path.iterdir()):
            raise SessionError(f"{path} exists and is not an aetui session; choose another name")
        try:
            self._made_root = self._made_root or not self.root.exists()
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(f"cannot create session {name} in {self.root}: {why(exc)}") from None
        state = ModelState.initial(config.hidden, data.n_visible, config.tied, config.seed)
        session = Session(path=path, config=config, state=state, image_shape=tuple(data.shape),
                          lineage=[new_segment(0, config, {"kind": "random"}, None, 1.0, True, 0, 0)],
                          data_fingerprint=data.fingerprint)
        try:
            session.save()
        except SaveError:
            self.discard_new(session)
            raise
        return session

    def discard_new(self, session: Session) -> None:
        """Remove a session this process has just created and not trained (a refused start), and
        the sessions folder too if this process created it and nothing else is in it."""
        shutil.rmtree(session.path, ignore_errors=True)
        if self._made_root:
            try:
                self.root.rmdir()
            except OSError:  # not empty (or already gone): it stays
                pass

    def load(self, name: str, changes: dict | None = None) -> Session:
        """Read session NAME; `changes` are options the user gave explicitly: they must agree with it."""
        path = self.path(name)
        if not (path / "session.json").is_file():
            raise SessionError(f"no session named {name} in {self.root}")
        session = read_session(path)
        conflicts = [f"--{k.replace('_', '-')} {v!r} (session has {getattr(session.config, k)!r})"
                     for k, v in (changes or {}).items() if getattr(session.config, k) != v]
        if conflicts:
            raise ConfigError(f"session {name} keeps its own settings; conflicting options: {', '.join(conflicts)}")
        return session

    def remove(self, name: str) -> None:
        """Delete session NAME's folder, unless another aetui process has it open."""
        path = self.path(name)
        if not path.is_dir():
            return
        with SessionLock(path):
            shutil.rmtree(path)

    def summaries(self) -> list[SessionSummary]:
        out = []
        for name in self.names():
            try:
                raw = read_json(self.root / name / "session.json")
                check_header(self.root / name, raw)
                check_record(self.root / name, raw, raw["schema"])
                lineage = lineage_label(raw["lineage"])
                held = [v for v in raw["history"]["points"]["heldout_loss"] if v is not None]
                out.append(SessionSummary(name, lineage, int(raw["samples"]), held[-1] if held else None, raw.get("saved"),
                                          origin=branch_parent(raw["lineage"])))
            except SessionError as exc:
                out.append(SessionSummary(name, "?", 0, None, None, str(exc)))
            except (KeyError, TypeError, ValueError) as exc:
                out.append(SessionSummary(name, "?", 0, None, None, f"malformed session.json ({exc})"))
        return out


def default_name(config: TrainConfig) -> str:
    return f"{config.activation}-{dt.datetime.now():%Y%m%d-%H%M%S}"
