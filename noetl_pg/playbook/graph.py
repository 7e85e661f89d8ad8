"""Graph analysis of a workflow (engine.md §2.5): back arcs, joins, ancestors, reachability."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Arc:
    """One arc `source → target`; `back` is filled in by `analyse`."""

    source: str
    target: str
    back: bool = False


@dataclass
class Analysis:
    """What the SQL engine needs from the graph, every list in definition order."""

    joins: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    ancestors: dict[str, list[str]] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)


def analyse(order: list[str], entry: str, arcs: dict[str, list[Arc]]) -> Analysis:
    """Classify `arcs` (per source step, in router order) in place and derive joins.

    Back arcs come from one depth-first search that starts at `entry` and then restarts from
    every unvisited step in definition order; an arc is back iff its target is on the current
    search path when the arc is examined (self-arcs included). The remaining arcs form a DAG.
    """
    position = {name: i for i, name in enumerate(order)}
    visited: set[str] = set()

    def search(root: str) -> None:
        # Iterative DFS: a long generated workflow must not hit Python's recursion limit.
        on_path = {root}
        visited.add(root)
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            step, next_arc = stack[-1]
            out = arcs.get(step, [])
            if next_arc >= len(out):
                stack.pop()
                on_path.discard(step)
                continue
            stack[-1] = (step, next_arc + 1)
            arc = out[next_arc]
            if arc.target in on_path:
                arc.back = True
            elif arc.target not in visited:
                visited.add(arc.target)
                on_path.add(arc.target)
                stack.append((arc.target, 0))

    search(entry)
    reachable = set(visited)
    for name in order:
        if name not in visited:
            search(name)

    result = Analysis(unreachable=[n for n in order if n not in reachable])
    forward_sources: dict[str, set[str]] = {n: set() for n in order}
    for name in order:
        for arc in arcs.get(name, []):
            if not arc.back and arc.source != arc.target:
                forward_sources[arc.target].add(arc.source)
    for name in order:
        srcs = sorted(forward_sources[name], key=position.__getitem__)
        if len(srcs) >= 2:
            result.joins.append(name)
            result.sources[name] = srcs
            result.ancestors[name] = sorted(
                _forward_ancestors(name, forward_sources), key=position.__getitem__
            )
    return result


def _forward_ancestors(target: str, forward_sources: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [target]
    while todo:
        for src in forward_sources[todo.pop()]:
            if src not in seen and src != target:
                seen.add(src)
                todo.append(src)
    return seen
