"""How much of its time the trainer gives to reports: history points, held-out evaluation,
period snapshots. At most REPORT_SHARE, measured as it goes (on budget_clock), at every point
of a run.

Measured before this (Fashion-MNIST, hidden 1000): 2,000 samples took 7.9 s of which training
was about 0.25 s, because each of the dense early report points evaluated all 6,000 held-out
images. Now each point's work is timed; a point is recorded only when the time trained so far
pays for it, and its held-out loss is on the whole held-out set when that fits, on a fixed
subset when only that fits, and left out otherwise (the history's heldout_n says which).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

REPORT_SHARE = 0.10  # of the time spent training and reporting together
# Report work a run may do beyond the share, once: part of its fixed start-up cost. Without it a
# tiny model (8x8 bars, 12 units: 3 us per sample) could afford a point only every ~1,000
# samples and its curve would lose the dense early points; 20 ms leave the big ones unaffected.
GRACE_SECONDS = 0.02
# The clock of the budget: the training thread's CPU time, for training and reports alike. On a
# shared VM the thread is now and then descheduled for a few ms (measured: 4 of 2,000 tiny
# matmuls took 4-8 ms instead of 9 us); on the wall clock whichever work it hit paid for it, and
# a tiny model's first 20 ms of report allowance could go to two such pauses, leaving its curve
# without points. Without pauses the two clocks agree.
budget_clock = time.thread_time
HELDOUT_SUBSET = 500  # held-out samples of the points that cannot afford the whole set
EMA = 0.3  # weight of the newest measurement in the running cost estimates


@dataclass
class ReportBudget:
    """Time trained and time spent on reports (seconds), and what reports have cost."""

    share: float = REPORT_SHARE
    trained: float = 0.0
    spent: float = 0.0
    point_cost: float = 0.0  # one history point without held-out evaluation
    sample_cost: float = 0.0  # one held-out sample evaluated (0: not measured yet)

    def allowance(self) -> float:
        """Seconds of report work that keep spent / (spent + trained) <= share (after the grace)."""
        return self.share / (1.0 - self.share) * self.trained + GRACE_SECONDS - self.spent

    def share_spent(self) -> float:
        """The share of training-and-reporting time that went to reports so far."""
        total = self.trained + self.spent
        return self.spent / total if total > 0 else 0.0

    def affords_point(self, first: bool) -> bool:
        """Whether a history point is due now; a segment's first point is always taken (it is the
        run's fixed start-up cost)."""
        return first or self.allowance() >= self.point_cost

    def heldout_size(self, full: int, subset: int, first: bool) -> int:
        """How many held-out samples this point evaluates: full, subset, or 0 (none)."""
        left = self.allowance() - self.point_cost
        if self.sample_cost > 0 and left >= self.sample_cost * full:
            return full
        if first or self.sample_cost == 0 or left >= self.sample_cost * subset:
            return min(subset, full)
        return 0

    def add_training(self, seconds: float) -> None:
        self.trained += seconds

    def add_point(self, seconds: float, evaluated: int, eval_seconds: float, first: bool = False) -> None:
        """A point took `seconds` in all, `eval_seconds` of them evaluating `evaluated` samples.

        A segment's first point is the run's fixed cost: not charged to the share, and not a
        measure of what points cost (it may include loading the kernels).
        """
        if first:
            return
        self.spent += seconds
        self.point_cost = _mix(self.point_cost, max(seconds - eval_seconds, 0.0))
        if evaluated:
            self.sample_cost = _mix(self.sample_cost, eval_seconds / evaluated)

    def add_other(self, seconds: float) -> None:
        """Other report work (a period snapshot)."""
        self.spent += seconds


def _mix(old: float, new: float) -> float:
    return new if old == 0 else (1 - EMA) * old + EMA * new
