"""Views of each backpropagation step: the graph (Graphviz DOT) and the equations.

Both are language-neutral: node names and math only. Numbers are printed with 4 significant
digits, the same digits the page's tables show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnnlab.nnbasics.backprop import TinyNet, Trace, schedule

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
CURRENT_FILL = "#ffd9b3"
VALUE_FILL = "#dce6f8"
GRAD_FILL = "#d6f0e0"
PARAM_NAMES = {"b1": ("z1",), "b2": ("z2",), "c": ("o",)}


def fmt(value: float) -> str:
    """Format a number the way the lesson prints it (4 significant digits)."""
    return f"{value:.4g}"


def term(value: float) -> str:
    """Format a number for the middle of a sum: negative values go in brackets."""
    return f"({fmt(value)})" if value < 0 else fmt(value)


def pretty(name: str) -> str:
    """Return a node name with subscript digits, e.g. "z1" -> "z₁", "w12" -> "w₁₂"."""
    return name[0] + name[1:].translate(SUBSCRIPTS) if len(name) > 1 else name


@dataclass(frozen=True)
class StepState:
    """The names with a known value or gradient at one step of the lesson."""

    phase: str  # "forward" or "backward"
    current: tuple[str, ...]  # names computed in this step
    values: frozenset[str]  # names whose forward value is known
    grads: frozenset[str]  # names whose gradient is known


def state_at(loss: str, step: int) -> StepState:
    """Return what is known after ``step`` (0-based, clamped into the schedule's range)."""
    steps = schedule(loss)
    step = min(max(step, 0), len(steps) - 1)
    values: set[str] = set()
    grads: set[str] = set()
    for phase, names in steps[: step + 1]:
        (values if phase == "forward" else grads).update(names)
    phase, current = steps[step]
    return StepState(phase, current, frozenset(values), frozenset(grads))


def to_dot(net: TinyNet, trace: Trace, state: StepState) -> str:
    """Return the network as a left-to-right Graphviz graph for ``st.graphviz_chart``.

    Each node shows its value once the forward pass reached it and its gradient dL/d(node)
    once the backward pass did. Edges carry the weights and, in the backward pass, their
    gradients. The nodes computed in the current step are highlighted.
    """
    params = net.as_dict()
    nodes = ["x1", "x2", "z1", "z2", "h1", "h2", "o"]
    nodes += ["p", "L"] if trace.loss == "bce" else ["L"]
    lines = [
        "digraph backprop {",
        '  rankdir=LR; bgcolor="transparent"; nodesep=0.5; ranksep=1.1;',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10, color="#777777"];',
    ]
    for name in nodes:
        lines.append(f'  {name} [label="{_node_label(name, params, trace, state)}", '
                     f'fillcolor="{_fill(name, state)}"];')  # fmt: skip
    lines.append('  y [label="y = ' + fmt(trace.values["y"]) + '", shape=ellipse, '
                 'fillcolor="#eeeeee"];')  # fmt: skip

    edges = [("x1", "z1", "w11"), ("x2", "z1", "w12"), ("x1", "z2", "w21"), ("x2", "z2", "w22"),
             ("z1", "h1", None), ("z2", "h2", None), ("h1", "o", "v1"), ("h2", "o", "v2")]  # fmt: skip
    edges += [("o", "p", None), ("p", "L", None)] if trace.loss == "bce" else [("o", "L", None)]
    for source, target, weight in edges:
        label = ""
        if weight:
            label = f"{pretty(weight)} = {fmt(params[weight])}"
            if weight in state.grads:
                label += f"\\n∂L/∂{pretty(weight)} = {fmt(trace.grads[weight])}"
        # The gradient has crossed an edge once it reached the edge's source node.
        color = "#e4572e" if source in state.grads else "#777777"
        lines.append(f'  {source} -> {target} [label="{label}", color="{color}"];')
    lines.append("  y -> L [style=dashed];")
    lines.append("  { rank=same; x1; x2; }")
    lines.append("}")
    return "\n".join(lines)


def _node_label(name: str, params: dict[str, float], trace: Trace, state: StepState) -> str:
    parts = [pretty(name)]
    if name in state.values:
        parts[0] += f" = {fmt(trace.values[name])}"
    for bias, owners in PARAM_NAMES.items():
        if name in owners:
            parts.append(f"{pretty(bias)} = {fmt(params[bias])}")
            if bias in state.grads:
                parts.append(f"∂L/∂{pretty(bias)} = {fmt(trace.grads[bias])}")
    if name in state.grads:
        parts.append(f"∂L/∂{pretty(name)} = {fmt(trace.grads[name])}")
    return "\\n".join(parts)


def _fill(name: str, state: StepState) -> str:
    if name in state.current:
        return CURRENT_FILL
    if name in state.grads:
        return GRAD_FILL
    if name in state.values:
        return VALUE_FILL
    return "#ffffff"


def step_equations(net: TinyNet, trace: Trace, state: StepState) -> list[str]:
    """Return the LaTeX equations, with numbers, of the names computed in this step."""
    p, v, g = net.as_dict(), trace.values, trace.grads
    act = r"\sigma" if trace.activation == "sigmoid" else r"\tanh"
    local = (
        (lambda h: rf"{term(h)}\,(1 - {term(h)})") if trace.activation == "sigmoid"
        else (lambda h: rf"(1 - {term(h)}^2)")
    )  # fmt: skip
    equations: list[str] = []
    if state.current == ("x1", "x2", "y"):
        return [rf"x_1 = {fmt(v['x1'])},\quad x_2 = {fmt(v['x2'])},\quad y = {fmt(v['y'])}"]
    for name in state.current:
        i = name[-1]
        if state.phase == "forward":
            if name.startswith("z"):
                equations.append(
                    rf"z_{i} = w_{{{i}1}} x_1 + w_{{{i}2}} x_2 + b_{i} = {term(p[f'w{i}1'])} \cdot "
                    rf"{term(v['x1'])} + {term(p[f'w{i}2'])} \cdot {term(v['x2'])} + {term(p[f'b{i}'])}"
                    rf" = {fmt(v[name])}"
                )  # fmt: skip
            elif name.startswith("h"):
                equations.append(
                    rf"h_{i} = {act}(z_{i}) = {act}({fmt(v[f'z{i}'])}) = {fmt(v[name])}"
                )
            elif name == "o":
                equations.append(
                    rf"o = v_1 h_1 + v_2 h_2 + c = {term(p['v1'])} \cdot {term(v['h1'])} + "
                    rf"{term(p['v2'])} \cdot {term(v['h2'])} + {term(p['c'])} = {fmt(v['o'])}"
                )  # fmt: skip
            elif name == "p":
                equations.append(rf"p = \sigma(o) = \sigma({fmt(v['o'])}) = {fmt(v['p'])}")
            elif trace.loss == "mse":
                equations.append(
                    rf"L = (o - y)^2 = ({fmt(v['o'])} - {term(v['y'])})^2 = {fmt(v['L'])}"
                )
            else:
                equations.append(
                    rf"L = -[y \log p + (1 - y)\log(1 - p)] = -[{term(v['y'])} \log {fmt(v['p'])}"
                    rf" + {term(1 - v['y'])} \log {fmt(1 - v['p'])}] = {fmt(v['L'])}"
                )
            continue
        equations.append(_backward_equation(name, i, p, v, g, act, local, trace.loss))
    return equations


def _backward_equation(
    name: str,
    i: str,
    p: dict[str, float],
    v: dict[str, float],
    g: dict[str, float],
    act: str,
    local: Callable[[float], str],
    loss: str,
) -> str:
    d = rf"\frac{{\partial L}}{{\partial {_tex(name)}}}"
    if name == "L":
        return rf"{d} = 1"
    if name == "p":
        return rf"{d} = -\frac{{y}}{{p}} + \frac{{1 - y}}{{1 - p}} = {fmt(g['p'])}"
    if name == "o" and loss == "mse":
        return rf"{d} = 2\,(o - y) = 2\,({fmt(v['o'])} - {term(v['y'])}) = {fmt(g['o'])}"
    if name == "o":
        return (rf"{d} = \frac{{\partial L}}{{\partial p}}\,p\,(1 - p) = p - y = "
                rf"{fmt(v['p'])} - {term(v['y'])} = {fmt(g['o'])}")  # fmt: skip
    if name in ("v1", "v2"):
        return rf"{d} = \frac{{\partial L}}{{\partial o}}\,h_{i} = {term(g['o'])} \cdot {term(v[f'h{i}'])} = {fmt(g[name])}"
    if name == "c":
        return rf"{d} = \frac{{\partial L}}{{\partial o}} = {fmt(g['c'])}"
    if name.startswith("h"):
        return rf"{d} = \frac{{\partial L}}{{\partial o}}\,v_{i} = {term(g['o'])} \cdot {term(p[f'v{i}'])} = {fmt(g[name])}"
    if name.startswith("z"):
        return (rf"{d} = \frac{{\partial L}}{{\partial h_{i}}}\,{act}'(z_{i}) = {term(g[f'h{i}'])} \cdot "
                rf"{local(v[f'h{i}'])} = {fmt(g[name])}")  # fmt: skip
    if name.startswith("w"):
        row, col = name[1], name[2]
        return (rf"{d} = \frac{{\partial L}}{{\partial z_{row}}}\,x_{col} = {term(g[f'z{row}'])} \cdot "
                rf"{term(v[f'x{col}'])} = {fmt(g[name])}")  # fmt: skip
    if name.startswith("b"):
        return rf"{d} = \frac{{\partial L}}{{\partial z_{i}}} = {fmt(g[name])}"
    # x1, x2: both hidden units depend on the input.
    return (rf"{d} = \frac{{\partial L}}{{\partial z_1}} w_{{1{i}}} + \frac{{\partial L}}{{\partial z_2}} "
            rf"w_{{2{i}}} = {fmt(g[name])}")  # fmt: skip


def _tex(name: str) -> str:
    if name in ("w11", "w12", "w21", "w22"):
        return f"w_{{{name[1:]}}}"
    return f"{name[0]}_{name[1:]}" if len(name) > 1 else name
