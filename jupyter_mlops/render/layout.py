"""The DAG's layout, computed once, here: the widget, the static SVG and the server's view draw these numbers.

A layered ("Sugiyama") drawing, left to right:
1. layers by longest path from the sources, so every edge points right;
2. edges that span several layers get invisible waypoints, one per layer crossed, so they bend around
   nodes instead of through them;
3. crossing reduction by barycenter sweeps (forward and backward), keeping the order with fewest crossings;
4. vertical coordinates: each node pulled towards its neighbours' mean, then the order's minimum spacing
   restored with the least movement (isotonic regression), which straightens chains and fans.

Pure Python, deterministic (ties broken by the order steps were given in), and linear-ish: a 200-node DAG
takes a few milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import PipelineError

NODE_W = 168.0
NODE_H = 40.0
LAYER_GAP = 72.0  # horizontal space between layers, where edges run
ROW_GAP = 20.0  # vertical space between nodes of one layer
DUMMY_H = 8.0  # an edge's waypoint takes a thin slot in its layer
MARGIN = 16.0
SWEEPS = 8


@dataclass(frozen=True)
class NodeBox:
    id: str
    x: float  # top-left corner
    y: float
    w: float
    h: float
    layer: int


@dataclass(frozen=True)
class EdgePath:
    source: str
    target: str
    points: list[tuple[float, float]]  # from the source's right side to the target's left side
    label: str = ""

    @property
    def d(self) -> str:
        """The SVG path: a smooth S-curve between consecutive points (straight where they are level)."""
        (x0, y0), rest = self.points[0], self.points[1:]
        parts = [f"M{x0:.1f},{y0:.1f}"]
        px, py = x0, y0
        for x, y in rest:
            dx = (x - px) / 2
            parts.append(f"C{px + dx:.1f},{py:.1f} {x - dx:.1f},{y:.1f} {x:.1f},{y:.1f}")
            px, py = x, y
        return " ".join(parts)

    @property
    def label_at(self) -> tuple[float, float]:
        """Where the edge's label goes: the middle of its first segment, in the gap after the source."""
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        return (x0 + x1) / 2, (y0 + y1) / 2


@dataclass
class Layout:
    width: float
    height: float
    nodes: list[NodeBox] = field(default_factory=list)
    edges: list[EdgePath] = field(default_factory=list)

    def node(self, node_id: str) -> NodeBox:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(f"no node {node_id!r} in the layout")

    def to_json(self) -> dict[str, Any]:
        """Compact JSON for the front ends (coordinates rounded to 0.1 px)."""
        return {
            "width": round(self.width, 1),
            "height": round(self.height, 1),
            "nodes": [
                {"id": n.id, "x": round(n.x, 1), "y": round(n.y, 1), "w": n.w, "h": n.h, "layer": n.layer}
                for n in self.nodes
            ],
            "edges": [
                {
                    "source": e.source,
                    "target": e.target,
                    "d": e.d,
                    "label": e.label,
                    "label_at": [round(e.label_at[0], 1), round(e.label_at[1], 1)],
                }
                for e in self.edges
            ],
        }


def layout_dag(
    nodes: Sequence[str],
    edges: Iterable[tuple[str, str]],
    *,
    labels: dict[tuple[str, str], str] | None = None,
) -> Layout:
    """Lay out a DAG left to right. Edge endpoints missing from `nodes` are added after them.

    Raises PipelineError if the edges form a cycle (naming the steps on it).
    """
    order: dict[str, int] = {}
    for n in nodes:
        order.setdefault(n, len(order))
    edge_list: list[tuple[str, str]] = []
    seen_edges: set[tuple[str, str]] = set()
    for a, b in edges:
        order.setdefault(a, len(order))
        order.setdefault(b, len(order))
        if a != b and (a, b) not in seen_edges:
            seen_edges.add((a, b))
            edge_list.append((a, b))
    names = sorted(order, key=order.__getitem__)
    if not names:
        return Layout(width=2 * MARGIN, height=2 * MARGIN)

    layer = _longest_path_layers(names, edge_list)
    # Each edge becomes a chain through one waypoint per intermediate layer ("~a~b~k" cannot be a step name
    # in KFP, whose task names are DNS-like). The chain's segments carry crossing reduction.
    succ: dict[str, list[str]] = {n: [] for n in names}
    pred: dict[str, list[str]] = {n: [] for n in names}
    chains: list[list[str]] = []
    for a, b in edge_list:
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            dummy = f"~{a}~{b}~{k}"
            layer[dummy] = k
            succ[dummy], pred[dummy] = [], []
            chain.append(dummy)
        chain.append(b)
        for u, v in itertools.pairwise(chain):
            succ[u].append(v)
            pred[v].append(u)
        chains.append(chain)

    n_layers = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for n in names:  # real nodes first, in the order given; waypoints after, in edge order
        rows[layer[n]].append(n)
    for chain in chains:
        for d in chain[1:-1]:
            rows[layer[d]].append(d)

    rows = _reduce_crossings(rows, succ, pred)
    height_of = {n: (NODE_H if n in order else DUMMY_H) for r in rows for n in r}
    ys = _assign_y(rows, succ, pred, height_of)

    top = min(ys[n] for n in ys)
    bottom = max(ys[n] + height_of[n] for n in ys)
    shift = MARGIN - top
    xs = [MARGIN + k * (NODE_W + LAYER_GAP) for k in range(n_layers)]

    boxes = [NodeBox(n, xs[layer[n]], ys[n] + shift, NODE_W, NODE_H, layer[n]) for n in names]
    labels = labels or {}
    paths: list[EdgePath] = []
    for chain in chains:
        a, b = chain[0], chain[-1]
        pts: list[tuple[float, float]] = [(xs[layer[a]] + NODE_W, ys[a] + shift + NODE_H / 2)]
        for d in chain[1:-1]:
            cy = ys[d] + shift + DUMMY_H / 2
            # Two points per waypoint: the edge runs straight through the node column it crosses.
            pts.append((xs[layer[d]], cy))
            pts.append((xs[layer[d]] + NODE_W, cy))
        pts.append((xs[layer[b]], ys[b] + shift + NODE_H / 2))
        paths.append(EdgePath(a, b, pts, labels.get((a, b), "")))

    width = 2 * MARGIN + n_layers * NODE_W + (n_layers - 1) * LAYER_GAP
    height = (bottom - top) + 2 * MARGIN
    return Layout(width=width, height=height, nodes=boxes, edges=paths)


def step_order(names: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """`names` in the order the DAG runs them: by layer (longest path from a root), then as given.

    For text that lists steps: a run's steps come from the IR, which kfp sorts by name. Edges naming
    unknown steps are ignored; if the edges form a cycle the given order is kept (text never fails).
    """
    known = list(dict.fromkeys(names))
    members = set(known)
    inner = [(a, b) for a, b in edges if a in members and b in members and a != b]
    try:
        layer = _longest_path_layers(known, list(dict.fromkeys(inner)))
    except PipelineError:
        return known
    position = {n: i for i, n in enumerate(known)}
    return sorted(known, key=lambda n: (layer[n], position[n]))


def _longest_path_layers(names: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Kahn's topological order; a node's layer is one more than its deepest predecessor's."""
    indeg = {n: 0 for n in names}
    out: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        out[a].append(b)
        indeg[b] += 1
    layer = {n: 0 for n in names}
    ready = [n for n in names if indeg[n] == 0]
    done = 0
    while ready:
        nxt: list[str] = []
        for n in ready:
            done += 1
            for m in out[n]:
                layer[m] = max(layer[m], layer[n] + 1)
                indeg[m] -= 1
                if indeg[m] == 0:
                    nxt.append(m)
        ready = nxt
    if done < len(names):
        stuck = [n for n in names if indeg[n] > 0]
        raise PipelineError(
            "the pipeline's steps depend on each other in a cycle, so it cannot run or be drawn: "
            + ", ".join(stuck[:10])
            + (" ..." if len(stuck) > 10 else "")
            + ". Remove one of the dependencies (an input or an --after) between them."
        )
    return layer


def _reduce_crossings(
    rows: list[list[str]], succ: dict[str, list[str]], pred: dict[str, list[str]]
) -> list[list[str]]:
    best = [list(r) for r in rows]
    best_cost = _count_all_crossings(best, succ)
    current = [list(r) for r in rows]
    for sweep in range(SWEEPS):
        if best_cost == 0:
            break
        forward = sweep % 2 == 0
        indices = range(1, len(current)) if forward else range(len(current) - 2, -1, -1)
        for k in indices:
            fixed = current[k - 1] if forward else current[k + 1]
            pos = {n: i for i, n in enumerate(fixed)}
            neigh = pred if forward else succ
            current[k] = _barycenter_order(current[k], neigh, pos)
        cost = _count_all_crossings(current, succ)
        if cost < best_cost:
            best, best_cost = [list(r) for r in current], cost
    return best


def _barycenter_order(row: list[str], neigh: dict[str, list[str]], pos: dict[str, int]) -> list[str]:
    """Sort a layer by the mean position of each node's neighbours in the fixed layer.

    A node with no such neighbour keeps its current position as its key, so it does not drift.
    Ties keep the current order (a stable sort), which keeps the result deterministic.
    """
    keyed: list[tuple[float, int, str]] = []
    for i, n in enumerate(row):
        ps = [pos[m] for m in neigh[n] if m in pos]
        key = sum(ps) / len(ps) if ps else float(i)
        keyed.append((key, i, n))
    keyed.sort()
    return [n for _, _, n in keyed]


def _count_all_crossings(rows: list[list[str]], succ: dict[str, list[str]]) -> int:
    total = 0
    for k in range(len(rows) - 1):
        pos = {n: i for i, n in enumerate(rows[k + 1])}
        pairs: list[tuple[int, int]] = []
        for i, n in enumerate(rows[k]):
            pairs.extend((i, pos[m]) for m in succ[n] if m in pos)
        total += _inversions(sorted(pairs))
    return total


def _inversions(pairs: list[tuple[int, int]]) -> int:
    """Crossings between two layers = inversions of the targets once sorted by source (merge sort)."""
    seq = [b for _, b in pairs]

    def sort(xs: list[int]) -> tuple[list[int], int]:
        if len(xs) <= 1:
            return xs, 0
        mid = len(xs) // 2
        left, a = sort(xs[:mid])
        right, b = sort(xs[mid:])
        merged: list[int] = []
        inv = a + b
        i = j = 0
        while i < len(left) and j < len(right):
            if right[j] < left[i]:
                merged.append(right[j])
                inv += len(left) - i
                j += 1
            else:
                merged.append(left[i])
                i += 1
        merged.extend(left[i:])
        merged.extend(right[j:])
        return merged, inv

    return sort(seq)[1]


def _assign_y(
    rows: list[list[str]],
    succ: dict[str, list[str]],
    pred: dict[str, list[str]],
    height_of: dict[str, float],
) -> dict[str, float]:
    """Vertical positions (top edges) that keep each layer's order and spacing, aligned with neighbours."""
    ys: dict[str, float] = {}
    for row in rows:  # start: each layer stacked from 0
        y = 0.0
        for n in row:
            ys[n] = y
            y += height_of[n] + ROW_GAP
    tallest = max(sum(height_of[n] + ROW_GAP for n in r) for r in rows)
    for row in rows:  # centre each layer on the tallest one
        h = sum(height_of[n] + ROW_GAP for n in row)
        for n in row:
            ys[n] += (tallest - h) / 2

    def centre(n: str) -> float:
        return ys[n] + height_of[n] / 2

    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        order = rows if forward else list(reversed(rows))
        for row in order:
            desired: list[float] = []
            for n in row:
                cs = [centre(m) for m in pred[n]] + [centre(m) for m in succ[n]]
                desired.append((sum(cs) / len(cs) - height_of[n] / 2) if cs else ys[n])
            for n, y in zip(row, _spaced(desired, [height_of[n] for n in row]), strict=True):
                ys[n] = y
    return ys


def _spaced(desired: list[float], heights: list[float]) -> list[float]:
    """Positions closest (least squares) to `desired` that keep the order with ROW_GAP between boxes.

    With offsets o_i (the cumulative heights and gaps before box i), y_i = z_i + o_i where z must be
    non-decreasing: the pool-adjacent-violators algorithm gives the best z in linear time.
    """
    offsets: list[float] = []
    acc = 0.0
    for h in heights:
        offsets.append(acc)
        acc += h + ROW_GAP
    targets = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, count]
    for t in targets:
        blocks.append([t, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    z: list[float] = []
    for mean, count in blocks:
        z.extend([mean] * int(count))
    return [zi + o for zi, o in zip(z, offsets, strict=True)]
