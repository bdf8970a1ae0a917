"""`aetui sessions` and `aetui sessions show NAME`."""

from __future__ import annotations

import json

from aetui.cli.options import add_sessions_dir
from aetui.errors import ConfigError


def add_parser(subparsers):
    p = subparsers.add_parser("sessions", help="list sessions, or `sessions show NAME`")
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("name", nargs="?")
    add_sessions_dir(p)
    p.add_argument("--tree", action="store_true", help="draw which session was started from which (--from, fork)")
    p.add_argument("--json", action="store_true")
    return p


def run(args) -> int:
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from aetui.sessions.store import SessionStore
    from aetui.sessions.weight_store import THIN, WEIGHT_BUDGET_MB
    from aetui.training.process import running

    store = SessionStore(args.sessions_dir)
    console = Console()
    if args.action == "list":
        if args.name:
            raise ConfigError("`aetui sessions` takes no name; use `aetui sessions show NAME`")
        rows = store.summaries()
        if args.tree:
            if args.json:
                raise ConfigError("--tree draws for people; --json gives each session's origin")
            console.print(family_tree(store, rows) if rows else f"no sessions in {store.root}")
            return 0
        live = {r.name: running(store.path(r.name)) for r in rows}
        if args.json:
            print(json.dumps([_listed(r, live[r.name]) for r in rows]))
            return 0
        if not rows:
            console.print(f"no sessions in {store.root}")
            return 0
        table = Table(title=f"sessions in {store.root}")
        for col in ("name", "lineage", "samples", "held-out loss", "last saved", "running"):
            table.add_column(col, justify="right" if col in ("samples", "held-out loss") else "left",
                             # the name is what the user types next: never cut it, let the others wrap
                             no_wrap=col == "name", min_width=max(len(r.name) for r in rows) if col == "name" else None)
        for r in rows:
            hello = live[r.name]
            if r.problem:
                table.add_row(r.name, f"[red]unreadable: {r.problem}[/red]", "", "", "", _running(hello))
            else:
                samples, held = (r.samples, r.heldout_loss) if hello is None else (hello.samples, hello.heldout_loss)
                table.add_row(r.name, r.lineage, f"{samples:,}", "-" if held is None else f"{held:.4f}",
                              r.saved or "-", _running(hello))
        console.print(table)
        return 0
    if not args.name:
        raise ConfigError("`aetui sessions show` needs a session NAME")
    if args.tree:
        raise ConfigError("--tree goes with `aetui sessions` (the list)")
    from aetui.sessions.reading import open_session

    record = open_session(args.name, store.root)  # read-only, as every reader of a session
    damaged = record.snapshot_problems()
    events = [recorded_event(e) for e in record.events]
    if args.json:
        print(json.dumps(record.config | {
            "name": record.name, "samples": record.samples, "lineage": record.lineage,
            "events": events, "damaged_snapshots": damaged, "record_gap": record.record_gap,
            "running": record.running}))
        return 0
    cfg = record.train_config
    shape = record.image_shape
    console.print(f"[bold]{record.name}[/bold]  {record.path}")
    console.print(f"  lineage   {record.lineage_label}   samples {record.samples:,}   "
                  f"{'DIVERGED' if record.diverged else ''}")
    if record.running:
        console.print(f"  running   in process {record.pid}: what follows is its last save")
    console.print(f"  model     {shape[0]}x{shape[1]} -> {cfg.hidden} hidden, "
                  f"{'tied' if cfg.tied else 'untied'}, output {cfg.out_activation}, loss {cfg.loss_name}")
    console.print(f"  training  data {cfg.data}, batch {cfg.batch}{' balanced' if cfg.balanced else ''}, lr {cfg.learning_rate:g} "
                  f"(bias {cfg.bias_learning_rate:g}), momentum {cfg.momentum:g}, weight decay {cfg.weight_decay:g}, "
                  f"noise {cfg.noise:g}, dropout {cfg.dropout:g}, sparsity {cfg.sparsity_weight:g}@{cfg.sparsity_target:g}, seed {cfg.seed}")
    table = Table(title="segments")
    for col in ("#", "activation", "from", "scale", "biases", "lr", "start sample"):
        table.add_column(col)
    for seg in record.lineage:
        src = seg["source"]
        origin = segment_origin(src)
        table.add_row(str(seg["index"]), seg["activation"], origin, f"{seg['weight_scale']:g}",
                      "reset" if seg["reset_biases"] else "kept", f"{seg['lr']:g}", f"{seg['start_samples']:,}")
    console.print(table)
    h = record.history
    held, over = h["heldout_loss"], h["heldout_n"]
    measured = np.isfinite(held)
    held, over = held[measured], over[measured]
    if len(record):
        last = "-" if not held.size else f"{held[-1]:.4f}" + ("" if np.isnan(over[-1]) else f" (over {int(over[-1]):,} samples)")
        console.print(f"  history   {len(record)} report points; last held-out loss {last}; "
                      f"{len(record.periods)} periods; {len(events)} events")
    if events:
        shown = Table(title="events")
        for col in ("sample", "step", "segment", "event", "details"):
            shown.add_column(col, justify="right" if col in ("sample", "step", "segment") else "left")
        for e in events:
            shown.add_row(f"{e['samples']:,}", f"{e['step']:,}", str(e["segment"]),
                          f"[red]{e['kind']}[/red]" if e["kind"] in ("diverged", "save_failed") else e["kind"],
                          event_details(e))
        console.print(shown)
    if record.record_gap:
        console.print(f"  record    incomplete: {record.record_gap}; `aetui replay` refuses it")
    snapshots = record.snapshots
    user = [s for s in snapshots if s.kind == "user"]
    named = f" ({', '.join(s.name for s in user)})" if user else ""
    thin = [s for s in snapshots if s.kind == THIN]
    periods = len(snapshots) - len(user) - len(thin)
    console.print(f"  snapshots {len(user)} named{named}, {periods} period snapshots, {len(thin)} thin-stored "
                  f"({record.thin_bytes() / (1 << 20):.1f} MB of {WEIGHT_BUDGET_MB} MB)")
    for name, problem in damaged.items():
        console.print(f"  [red]damaged snapshot {name}[/red]: {problem}")
    return 0


def recorded_event(e: dict) -> dict:
    """An event of open_session as session.json keeps it: its fields and details side by side."""
    fields = {k: e[k] for k in ("kind", "step", "samples", "segment", "time") if k != "time" or e[k] is not None}
    return fields | e["details"]


def segment_origin(src: dict) -> str:
    """Where a segment's weights came from, e.g. 'session src, snapshot s1 @ 20,000 samples'."""
    if src["kind"] == "random":
        return "random init"
    here = f"snapshot {src['name']}" if src["kind"] == "snapshot" else f"segment {src['segment']} at batch {src['step']:,}"
    if "session" not in src:
        return here
    what = f"snapshot {src['name']}" if src["kind"] == "snapshot" else "last save"
    return f"session {src['session']}, {what} @ {src['samples']:,} samples"


def family_tree(store, rows):
    """A Rich Tree of the sessions started from one another; sessions whose source is gone are roots."""
    from rich.markup import escape
    from rich.tree import Tree

    from aetui.sessions.tree import session_tree

    def label(node) -> str:
        s = node.summary
        if s.problem:
            return f"[bold]{escape(s.name)}[/bold]  [red]unreadable: {escape(s.problem)}[/red]"
        held = "" if s.heldout_loss is None else f", held-out {s.heldout_loss:.4f}"
        text = f"[bold]{escape(s.name)}[/bold]  "
        if node.lost_parent:  # first, where it cannot be missed
            text += f"[yellow](from session {escape(node.lost_parent)}, deleted)[/yellow]  "
        text += f"[magenta]{escape(s.lineage)}[/magenta]  {s.samples:,} samples{held}"
        if s.origin is not None and not node.lost_parent:
            src = s.origin
            what = f"snapshot {src['name']}" if src.get("kind") == "snapshot" else "weights"
            text += f"  [dim](from its {escape(what)} at {src.get('samples', 0):,})[/dim]"
        return text

    tree = Tree(f"sessions in {escape(str(store.root))}", guide_style="dim")

    def grow(branch, node) -> None:
        twig = branch.add(label(node))
        for child in node.children:
            grow(twig, child)

    for root in session_tree(rows):
        grow(tree, root)
    return tree


def event_details(e: dict) -> str:
    """What an event changed, in a few words."""
    kind = e["kind"]
    if kind == "lr":
        return f"learning rate {e['previous']:.4g} -> {e['lr']:.4g}"
    if kind == "restart":
        if "source" not in e:  # schema 1 recorded only these two
            return f"under {e['activation']}, weights x{e['weight_scale']:g}"
        src = e["source"]
        origin = f"snapshot {src['name']}" if src["kind"] == "snapshot" else "the current weights"
        if "session" in src:
            origin = f"{origin} of session {src['session']} (a new session from it)"
        lr = "default lr" if e["lr"] is None else f"lr {e['lr']:.4g}"
        return (f"under {e['activation']} from {origin}, weights x{e['weight_scale']:g}, "
                f"biases {'reset' if e['reset_biases'] else 'kept'}, {lr}")
    if kind == "snapshot":
        return e["name"]
    if kind == "diverged":
        return f"the {e['what']} went non-finite; weights kept from sample {e['kept_samples']:,}"
    if kind == "save_failed":
        return e["error"]
    return ""


def _listed(summary, hello) -> dict:
    """One session for `sessions --json`: the summary, live counts and the trainer when running."""
    out = dict(summary.__dict__, running=hello is not None)
    if hello is not None:
        out.update(samples=hello.samples, heldout_loss=hello.heldout_loss, pid=hello.pid, socket=hello.socket, state=hello.state,
                   samples_per_second=round(hello.samples_per_second, 1), dashboards=hello.clients)
    return out


def _running(hello) -> str:
    if hello is None:
        return ""
    watched = f", {hello.clients} dashboard{'s' if hello.clients != 1 else ''}" if hello.clients else ""
    return f"{hello.state.lower()}, {hello.samples_per_second:,.0f}/s, pid {hello.pid}{watched}"
