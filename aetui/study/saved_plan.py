"""The plan a study ran with, kept beside its sessions: SESSIONS/PREFIX.plan.toml.

`aetui study show PREFIX`, `aetui.open_study` and `--resume` read it back, so a study's table
and verdicts come from its own plan; a resume under another plan (other conditions, budget or
claims) is refused instead of mixing two studies under one prefix. The store lists only
folders with a session.json, so the file never shows as a session.
"""

from __future__ import annotations

from pathlib import Path

from aetui.errors import ConfigError, SessionError
from aetui.sessions.atomic import write_bytes
from aetui.sessions.store import SessionStore
from aetui.study.plan import StudyPlan
from aetui.study.plan_file import parse_plan, plan_to_toml

SUFFIX = ".plan.toml"


def saved_plan_path(store: SessionStore, prefix: str) -> Path:
    return store.root / f"{prefix}{SUFFIX}"


def read_saved_plan(store: SessionStore, prefix: str) -> StudyPlan | None:
    """The plan saved for PREFIX, None when there is none (a transfer study from before plans were saved)."""
    path = saved_plan_path(store, prefix)
    if not path.is_file():
        return None
    try:
        return parse_plan(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read {path}: {exc}") from None
    except ConfigError as exc:
        raise SessionError(f"the saved plan is damaged: {exc}") from None


def save_plan(store: SessionStore, plan: StudyPlan, mode: str) -> None:
    """Keep `plan` beside its sessions; on resume, refuse when the saved plan is another one."""
    if mode == "resume":
        try:
            saved = read_saved_plan(store, plan.prefix)
        except SessionError:
            saved = None  # a damaged copy: the sessions are the record, the plan is written afresh
        if saved is not None and saved.with_seeds(plan.seeds) != plan:
            raise ConfigError(f"the study {plan.prefix} in {store.root} was run with another plan "
                              f"({saved_plan_path(store, plan.prefix)}): resume it with that plan, or use --force "
                              f"to replace it, or another name")
    text = plan.source_text or plan_to_toml(plan)
    store.root.mkdir(parents=True, exist_ok=True)
    write_bytes(saved_plan_path(store, plan.prefix), text.encode("utf-8"))
