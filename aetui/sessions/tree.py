"""The family tree of a store's sessions: which session was started from which (`--from`, a fork).

A session's parent is the session its last branching segment names (sessions/lineage.py,
branch_parent). A session whose parent is no longer in the store is a root, with that name kept
so it can be said; so is one caught in a loop (names reused after a deletion).
"""

from __future__ import annotations

from dataclasses import dataclass

from aetui.sessions.store import SessionSummary


@dataclass(frozen=True)
class TreeNode:
    summary: SessionSummary
    children: tuple[TreeNode, ...]
    lost_parent: str | None = None  # the session it came from, when that is not in the store (any more)


def session_tree(summaries: list[SessionSummary]) -> list[TreeNode]:
    """Roots (sessions of random init, or whose source is gone), each with its descendants, by name."""
    by_name = {s.name: s for s in summaries}
    parent = {s.name: (s.origin or {}).get("session") for s in summaries}
    children: dict[str, list[str]] = {}
    for name, p in parent.items():
        if p in by_name and p != name:
            children.setdefault(p, []).append(name)
    placed: set[str] = set()

    def node(name: str, lost: str | None = None) -> TreeNode:
        placed.add(name)
        kids = tuple(node(k) for k in sorted(children.get(name, ())) if k not in placed)
        return TreeNode(by_name[name], kids, lost)

    roots = [node(n, parent[n]) if parent[n] else node(n) for n in sorted(by_name)
             if parent[n] not in by_name or parent[n] == n]
    roots += [node(n) for n in sorted(by_name) if n not in placed]  # in a loop: shown from where it is cut
    return sorted(roots, key=lambda r: r.summary.name)
