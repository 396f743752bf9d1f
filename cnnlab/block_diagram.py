"""Block diagrams as Graphviz DOT text, traced from a module's own ``forward`` with torch.fx.

The trace records which submodule or function each tensor passes through, so the shortcut
of a residual block or the concatenations of a dense block appear as they run, not as a
hand-drawn picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.fx
from torch import nn

SKIP_COLOR = "#e4572e"  # edges that jump over layers (shortcuts, concatenation inputs)
MAIN_COLOR = "#3b6fd4"
MERGE_FUNCTIONS = {"add": "+", "cat": "concat", "mul": "×"}


@dataclass(frozen=True)
class DiagramNode:
    name: str  # fx node name, unique
    label: str  # shown text, e.g. "conv1\nConv2d 3×3, 16→32, s2"
    kind: str  # "input", "output", "module", "merge" or "function"


@dataclass(frozen=True)
class Diagram:
    nodes: list[DiagramNode]
    edges: list[tuple[str, str, bool]]  # (source, target, is a skip edge)


class _BlockTracer(torch.fx.Tracer):
    """Stops at ``leaf_types`` (and at torch's own layers) instead of tracing into them."""

    def __init__(self, leaf_types: tuple[type[nn.Module], ...]) -> None:
        super().__init__()
        self.leaf_types = leaf_types

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return isinstance(module, self.leaf_types) or super().is_leaf_module(module, qualified_name)


def describe_module(module: nn.Module) -> str:
    """Return a short description of a layer: kernel, channels and stride for convolutions."""
    if isinstance(module, nn.Conv2d):
        k, s = module.kernel_size[0], module.stride[0]
        text = f"Conv2d {k}×{k}, {module.in_channels}→{module.out_channels}"
        if module.groups > 1:
            text += f", g={module.groups}"
        return text + (f", s{s}" if s > 1 else "")
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}→{module.out_features}"
    if isinstance(module, nn.AvgPool2d | nn.MaxPool2d):
        return f"{type(module).__name__} {module.kernel_size}"
    return type(module).__name__


def trace_diagram(
    module: nn.Module,
    leaf_types: tuple[type[nn.Module], ...] = (),
    labels: dict[str, str] | None = None,
) -> Diagram:
    """Trace ``module.forward`` and return its data-flow graph.

    ``leaf_types`` are drawn as one box each (e.g. whole blocks in a network diagram).
    ``labels`` translates the words "input" and "output". The main path is the longest
    path from the input to the output, and every edge off it is a skip edge: a shortcut,
    an earlier feature map reaching a concatenation, or the features that SE rescales.
    """
    labels = labels or {"input": "input", "output": "output"}
    graph = _BlockTracer(leaf_types).trace(module)
    submodules = dict(module.named_modules())

    nodes: list[DiagramNode] = []
    links: list[tuple[str, str]] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            diagram_node = DiagramNode(node.name, labels["input"], "input")
        elif node.op == "output":
            diagram_node = DiagramNode(node.name, labels["output"], "output")
        elif node.op == "call_module":
            text = f"{node.target}\n{describe_module(submodules[node.target])}"
            diagram_node = DiagramNode(node.name, text, "module")
        elif node.op in ("call_function", "call_method"):
            name = getattr(node.target, "__name__", str(node.target))
            kind = "merge" if name in MERGE_FUNCTIONS else "function"
            diagram_node = DiagramNode(node.name, MERGE_FUNCTIONS.get(name, name), kind)
        else:
            continue  # get_attr: parameters read directly, not part of the data flow
        nodes.append(diagram_node)
        links += [(source.name, node.name) for source in node.all_input_nodes]

    main = _longest_path_edges([n.name for n in nodes], links)
    return Diagram(nodes, [(a, b, (a, b) not in main) for a, b in links])


def _longest_path_edges(order: list[str], links: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Return the edges of the longest path to the last node; ``order`` is topological."""
    length = {name: 0 for name in order}
    best_source: dict[str, str] = {}
    for source, target in sorted(links, key=lambda link: order.index(link[1])):
        if length[source] + 1 > length[target]:
            length[target] = length[source] + 1
            best_source[target] = source
    path = set()
    node = order[-1]
    while node in best_source:
        path.add((best_source[node], node))
        node = best_source[node]
    return path


def diagram_dot(diagram: Diagram) -> str:
    """Return Graphviz DOT text, top to bottom, with skip edges drawn dashed in orange."""
    shapes = {
        "input": "oval",
        "output": "oval",
        "module": "box",
        "merge": "circle",
        "function": "box",
    }
    lines = [
        "digraph block {",
        '  rankdir=TB; bgcolor="transparent"; nodesep=0.25; ranksep=0.22;',
        '  node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.1,0.03", style="rounded,filled", fillcolor="#f4f6fb"];',
    ]
    for node in diagram.nodes:
        label = node.label.replace('"', r"\"").replace("\n", r"\n")
        fill = ', fillcolor="#fde4dc"' if node.kind == "merge" else ""
        lines.append(f'  "{node.name}" [label="{label}", shape={shapes[node.kind]}{fill}];')
    for source, target, skip in diagram.edges:
        style = (
            f'color="{SKIP_COLOR}", style=dashed, penwidth=2' if skip else f'color="{MAIN_COLOR}"'
        )
        lines.append(f'  "{source}" -> "{target}" [{style}];')
    lines.append("}")
    return "\n".join(lines)
