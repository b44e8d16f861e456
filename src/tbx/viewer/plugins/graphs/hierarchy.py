"""A GraphDef as the compact JSON the Graphs page draws: nodes, groups by name scope, and the
edges summarised to each group's boundary. Pure functions, no I/O.

Groups. A node ``a/b/c`` belongs to the group ``a/b``, itself inside ``a``, inside the root
(``""``): TensorFlow name scopes, and PyTorch module paths such as
``ResNet/Sequential[layer1]/BasicBlock[0]/Conv2d[conv1]/input.5``. A node whose own name is also a
scope (``a`` beside ``a/x``) is put inside that group. A group holding more than
``max_children`` children is split so the page never lays out an unbounded level: first into
*series* (children ``conv_1 .. conv_500`` that differ only by a trailing number become one group
``conv_[1-500]``), then, if still too many, into *chunks* of consecutive children ``[i-j]``.

Edges. Every edge ``u -> v`` (``v`` lists ``u`` as an input) is drawn at exactly one level: in the
lowest group holding both ends, between the two children of that group that contain ``u`` and
``v`` (so a collapsed group shows its in/out edges summarised to its boundary, with a count). In
each group strictly between, the child holding ``v`` is an *in port* (it receives an edge from
outside the group) and the child holding ``u`` an *out port*.

Layout of the result (columns are lists of equal length; a *ref* is a node index ``i >= 0`` or
a group index ``j`` written ``-(j + 1)``; group 0 is the root)::

    {"nodes":  {"name", "op", "group" (its group index), "shape" ("1x64x56x56"; outputs joined
                by ", "; "" when unknown), "dtype" ("float32", "" when unknown),
                "device" (index into "devices", -1 for none), "in_ptr", "in_idx" (the inputs of
                node v are in_idx[in_ptr[v]:in_ptr[v + 1]]: node u, or -(u + 1) for a control
                input; inputs naming no node are left out)},
     "devices": [str],
     "groups": {"name" (full path; "" for the root), "label", "parent" (-1 for the root),
                "kind" ("root", "scope", "series" or "chunk"), "count" (nodes below),
                "children" ([ref]), "edges" ([a, b, n, control, ...] flat: n edges from a to b,
                control = 1 when all of them are control edges), "in" ([ref]), "out" ([ref]),
                "ops" ([op, count, ...] flat: the 5 commonest ops below)},
     "stats":  {"nodes", "edges", "groups", "missing_inputs"}}
"""

from __future__ import annotations

import re
from collections import Counter

from tbx.proto.types_pb2 import DataType

__all__ = ["MAX_CHILDREN", "graph_model", "parse_input", "shape_text", "dtype_text"]

#: Most children a group shows before it is split into series / chunks.
MAX_CHILDREN = 200
_SERIES = re.compile(r"^(.*?)(\d+)$")
_DTYPE_NAMES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_HALF": "float16",
                "DT_BFLOAT16": "bfloat16"}


def parse_input(text: str) -> tuple[str, int, bool]:
    """``"^name"`` -> ``(name, 0, True)`` (control input); ``"name:2"`` -> ``(name, 2, False)``;
    ``"name"`` -> ``(name, 0, False)``."""
    control = text.startswith("^")
    if control:
        text = text[1:]
    name, sep, index = text.rpartition(":")
    if sep and index.isdigit():
        return name, int(index), control
    return text, 0, control


def _dim(d) -> str:
    return "?" if d.size < 0 else str(d.size)


def shape_text(shape) -> str:
    """A ``TensorShapeProto`` as ``"1x64x56x56"``: ``"?"`` for an unknown dimension or rank,
    ``"()"`` for a scalar."""
    if shape.unknown_rank:
        return "?"
    if not shape.dim:
        return "()"
    return "x".join(_dim(d) for d in shape.dim)


def dtype_text(value: int) -> str:
    """A ``DataType`` enum value as a short name: ``DT_FLOAT`` -> ``"float32"``, ``DT_INT64`` ->
    ``"int64"``; ``""`` for ``DT_INVALID`` (0) and unknown values."""
    if not value:
        return ""
    try:
        name = DataType.Name(value)
    except ValueError:
        return ""
    return _DTYPE_NAMES.get(name) or name.removeprefix("DT_").lower()


def _shapes_dtypes(node, memo: dict) -> tuple[str, str]:
    attr = node.attr
    shapes = ""
    if "_output_shapes" in attr:
        value = attr["_output_shapes"]
        key = value.SerializeToString()
        shapes = memo.get(key)
        if shapes is None:
            shapes = memo[key] = ", ".join(shape_text(s) for s in value.list.shape)
    elif "shape" in attr and attr["shape"].HasField("shape"):
        shapes = shape_text(attr["shape"].shape)
    dtypes = ""
    for key in ("dtype", "T", "out_type", "DstT"):
        if key in attr and attr[key].type:
            dtypes = dtype_text(attr[key].type)
            break
    else:
        if "_output_types" in attr:
            dtypes = ", ".join(dtype_text(t) for t in attr["_output_types"].list.type)
    return shapes, dtypes


class _Groups:
    """Columns of the group table while it is built."""

    def __init__(self):
        self.name, self.label, self.parent, self.kind = [""], [""], [-1], ["root"]
        self.children: list[list[int]] = [[]]
        self.index = {"": 0}

    def add(self, name: str, label: str, parent: int, kind: str) -> int:
        j = len(self.name)
        self.name.append(name)
        self.label.append(label)
        self.parent.append(parent)
        self.kind.append(kind)
        self.children.append([])
        self.children[parent].append(-(j + 1))
        return j

    def scope(self, path: str) -> int:
        """Index of the scope group ``path``, created with its ancestors when missing."""
        j = self.index.get(path)
        if j is None:
            head, _, label = path.rpartition("/")
            j = self.index[path] = self.add(path, label, self.scope(head), "scope")
        return j


def _label(groups: _Groups, names: list[str], ref: int) -> str:
    return names[ref].rpartition("/")[2] if ref >= 0 else groups.label[-ref - 1]


def _split(groups: _Groups, j: int, names: list[str], node_group: list[int], limit: int):
    """Split group ``j`` into series, then chunks, until it has at most ``limit`` children."""
    children = groups.children[j]
    if len(children) <= limit:
        return
    series: dict[str, list[int]] = {}
    if groups.kind[j] != "series":
        for ref in children:
            m = _SERIES.match(_label(groups, names, ref))
            if m:
                series.setdefault(m.group(1), []).append(ref)
    kept, moved = [], {}
    for prefix, refs in series.items():
        if 1 < len(refs) < len(children):
            nums = [int(_SERIES.match(_label(groups, names, r)).group(2)) for r in refs]
            span = (prefix, min(nums), max(nums))
            moved.update(dict.fromkeys(refs, span))
    made: dict[str, int] = {}
    for ref in children:
        if ref not in moved:
            kept.append(ref)
            continue
        prefix, lo, hi = moved[ref]
        label = f"{prefix}[{lo}-{hi}]"
        g = made.get(label)
        if g is None:
            g = made[label] = _new_group(groups, j, label, "series", kept)
        _move(groups, ref, g, node_group)
    spans = [(i, i) for i in range(len(kept))]
    while len(kept) > limit:  # chunks of consecutive children, then chunks of chunks
        refs, kept, parts = kept, [], spans
        spans = []
        for start in range(0, len(refs), limit):
            lo, hi = parts[start][0], parts[min(start + limit, len(refs)) - 1][1]
            g = _new_group(groups, j, f"[{lo}-{hi}]", "chunk", kept)
            for ref in refs[start : start + limit]:
                _move(groups, ref, g, node_group)
            spans.append((lo, hi))
    groups.children[j] = kept
    for ref in list(groups.children[j]):
        if ref < 0:
            _split(groups, -ref - 1, names, node_group, limit)


def _new_group(groups: _Groups, parent: int, label: str, kind: str, into: list[int]) -> int:
    g = groups.add(f"{groups.name[parent]}/{label}" if parent else label, label, parent, kind)
    groups.children[parent].pop()  # add() appended it; the caller decides where it goes
    into.append(-(g + 1))
    return g


def _move(groups: _Groups, ref: int, g: int, node_group: list[int]) -> None:
    groups.children[g].append(ref)
    if ref >= 0:
        node_group[ref] = g
    else:
        groups.parent[-ref - 1] = g


def graph_model(graph_def, max_children: int = MAX_CHILDREN) -> dict:
    """The compact model of a ``GraphDef`` (layout in the module docstring).

    Inputs naming no node of the graph are dropped and counted in ``stats.missing_inputs``. A
    node name that repeats keeps its first node's index for edges.

    Raises:
        ValueError: ``max_children`` is below 2.
    """
    if max_children < 2:
        raise ValueError(f"max_children must be at least 2, got {max_children}")
    nodes = graph_def.node
    names = [n.name for n in nodes]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    scopes = set()
    for name in index:
        head = name.rpartition("/")[0]
        while head and head not in scopes:
            scopes.add(head)
            head = head.rpartition("/")[0]
    groups = _Groups()
    node_group = []
    for i, name in enumerate(names):
        g = groups.scope(name if name in scopes else name.rpartition("/")[0])
        groups.children[g].append(i)
        node_group.append(g)
    for j in range(len(groups.name)):
        _split(groups, j, names, node_group, max_children)

    ops, shape_col, dtype_col, device_col = [], [], [], []
    devices: dict[str, int] = {}
    memo: dict[bytes, str] = {}
    for n in nodes:
        ops.append(n.op)
        shapes, dtypes = _shapes_dtypes(n, memo)
        shape_col.append(shapes)
        dtype_col.append(dtypes)
        device_col.append(devices.setdefault(n.device, len(devices)) if n.device else -1)

    depth = [0] * len(groups.name)
    todo = [0]
    while todo:
        j = todo.pop()
        for ref in groups.children[j]:
            if ref < 0:
                k = -ref - 1
                depth[k] = depth[j] + 1
                if groups.kind[k] != "scope":  # series and chunks: named by where they ended up
                    head = groups.name[j]
                    groups.name[k] = f"{head}/{groups.label[k]}" if head else groups.label[k]
                todo.append(k)

    edges: list[dict] = [{} for _ in groups.name]
    ports_in: list[dict] = [{} for _ in groups.name]
    ports_out: list[dict] = [{} for _ in groups.name]
    missing = n_edges = 0
    parent = groups.parent
    in_ptr, in_idx = [0], []
    for v, node in enumerate(nodes):
        for text in node.input:
            name, _, control = parse_input(text)
            u = index.get(name)
            if u is None:
                missing += 1
                continue
            n_edges += 1
            in_idx.append(-(u + 1) if control else u)
            a, b = u, v  # walk both ends up to the lowest common group
            ga, gb = node_group[u], node_group[v]
            while ga != gb:
                if depth[ga] >= depth[gb]:
                    ports_out[ga][a] = None
                    a, ga = -(ga + 1), parent[ga]
                else:
                    ports_in[gb][b] = None
                    b, gb = -(gb + 1), parent[gb]
            if a == b:
                continue
            key = (a, b)
            prev = edges[ga].get(key)
            edges[ga][key] = (1, control) if prev is None else (prev[0] + 1, prev[1] and control)
        in_ptr.append(len(in_idx))

    counts = [Counter() for _ in groups.name]
    for i, g in enumerate(node_group):
        while g >= 0:
            counts[g][ops[i]] += 1
            g = parent[g]
    return {
        "nodes": {"name": names, "op": ops, "group": node_group, "shape": shape_col,
                  "dtype": dtype_col, "device": device_col, "in_ptr": in_ptr, "in_idx": in_idx},
        "devices": list(devices),
        "groups": {
            "name": groups.name,
            "label": groups.label,
            "parent": groups.parent,
            "kind": groups.kind,
            "count": [sum(c.values()) for c in counts],
            "children": groups.children,
            "edges": [[x for (a, b), (n, c) in e.items() for x in (a, b, n, int(c))]
                      for e in edges],
            "in": [list(p) for p in ports_in],
            "out": [list(p) for p in ports_out],
            "ops": [[x for op, n in c.most_common(5) for x in (op, n)] for c in counts],
        },
        "stats": {"nodes": len(names), "edges": n_edges, "groups": len(groups.name),
                  "missing_inputs": missing},
    }
