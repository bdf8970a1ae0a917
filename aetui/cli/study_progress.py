"""The experiment's progress display: one Rich bar per condition and seed.

With few units (the study's five) every bar is there from the start, as it always was. With
many (seeds, lists of activations and scales) a bar appears when its unit starts and goes when
it is done, under one line counting the finished units, so every running unit stays in view
on a 24-line terminal.
"""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

ALL_BARS = 10  # up to this many units, every unit keeps its bar


class UnitProgress:
    """A Progress over the plan's units; call it with each aetui.study.runner.Progress."""

    def __init__(self, plan, console, disable: bool, label):
        columns = (TextColumn("[bold]{task.description:<30}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]:>8} {task.fields[note]}"), TimeRemainingColumn())
        self.bar = Progress(*columns, console=console, disable=disable)
        self.plan, self.label = plan, label
        units = plan.units()
        self.every = len(units) <= ALL_BARS
        self.tasks: dict[int, int] = {}
        self.overall = None
        if self.every:
            for c in units:
                self.tasks[c.index] = self._add(c)
        else:
            self.overall = self.bar.add_task(f"{len(units)} conditions x seeds", total=len(units), loss="", note="")

    def _add(self, cond) -> int:
        return self.bar.add_task(self.label(cond, self.plan), total=self.plan.samples, loss="-", note="")

    def __call__(self, p) -> None:
        index = p.condition.index
        if index not in self.tasks:
            if p.phase == "done" and not self.every:  # finished at once (a resumed, complete unit)
                self.bar.advance(self.overall)
                return
            self.tasks[index] = self._add(p.condition)
        note = "[red]diverged[/red]" if p.diverged else ("done" if p.phase == "done" else "")
        self.bar.update(self.tasks[index], completed=min(p.done, p.total), note=note,
                        loss="-" if p.heldout_loss is None else f"{p.heldout_loss:.4f}")
        if p.phase == "done" and not self.every:
            self.bar.remove_task(self.tasks.pop(index))
            self.bar.advance(self.overall)

    def __enter__(self) -> UnitProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)
