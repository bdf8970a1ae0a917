"""The live fork: the run goes on, and a new session starts from its weights in a trainer of its own.

The new session is made by `train --from`'s code (training/branch.py) from the session's last
save, so the fork first asks the trainer to save and waits for that save: the weights the fork
starts from are those of the moment it was asked for (or the chosen snapshot).
"""

from __future__ import annotations

import time
from pathlib import Path

from aetui.errors import AetuiError
from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.training.client import TrainerClient
from aetui.training.origin import Origin
from aetui.training.process import start_trainer

SAVE_SECONDS = 30.0  # at most this long for the running session's save
HALF_SPEED_NOTE = "both train: on 2 cores each runs at about half speed"


def fork(link: TrainerClient, store: SessionStore, origin: Origin) -> TrainerClient:
    """Save the running session, start the new one from it in a second trainer; the new one's client.

    Blocks (run it in a worker); AetuiError with one line when the save or the start fails.
    """
    frame = link.frame
    asked_at = frame.samples if frame is not None else 0
    link.save()
    deadline = time.monotonic() + SAVE_SECONDS
    while True:
        frame = link.frame
        if frame is not None and frame.saved_samples is not None and frame.saved_samples >= asked_at:
            break
        if frame is not None and frame.save_error:
            raise AetuiError(f"fork: session {link.session} could not be saved first: {frame.save_error}")
        if not link.connected or time.monotonic() > deadline:
            raise AetuiError(f"fork: session {link.session} was not saved within {SAVE_SECONDS:.0f} s")
        time.sleep(0.05)
    hello = start_trainer(store, None, TrainConfig(), {}, origin=origin)
    return TrainerClient.attach(Path(hello.socket))
