"""The graph view: the layered layout's properties (hypothesis, with networkx as the
independent reference for longest paths) and the Plotly figure drawn from it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import archcost
from archcost.graph import Network, Node
from archcost.layers.base import Shape
from archcost.report.figures import GRAPH_NAME_CHARS, fig_graph, fig_layers
from archcost.report.graph_layout import layered_layout
from archcost.report.style import _layer_hover
from tiny_specs import RESIDUAL, SHUFFLE

SPECS = Path(__file__).resolve().parent.parent / "specs"


@st.composite
def dags(draw, max_nodes: int = 40) -> dict[str, list[str]]:
    """A random DAG in a topological order: each node reads 1-3 earlier nodes (a few
    read none: extra sources), with repeats now and then (``add(x, x)``)."""
    n = draw(st.integers(1, max_nodes))
    out: dict[str, list[str]] = {"n0": []}
    for i in range(1, n):
        if draw(st.integers(0, 19)) == 0:
            out[f"n{i}"] = []
            continue
        k = draw(st.integers(1, 3))
        out[f"n{i}"] = [f"n{draw(st.integers(0, i - 1))}" for _ in range(k)]
    return out


def _longest_to(inputs: dict[str, list[str]]) -> dict[str, int]:
    """Each node's longest path from a source, by networkx (the reference)."""
    g = nx.DiGraph()
    g.add_nodes_from(inputs)
    g.add_edges_from((s, d) for d, srcs in inputs.items() for s in srcs)
    best = {}
    for v in nx.topological_sort(g):
        best[v] = max((best[u] + 1 for u in g.predecessors(v)), default=0)
    return best


def _points_by_rank(lay) -> dict[int, list[float]]:
    """Every node and every bend of a long edge, by rank."""
    rows: dict[int, list[float]] = defaultdict(list)
    for x, r in lay.pos.values():
        rows[r].append(x)
    for _, _, bends in lay.edges:
        for x, r in bends:
            rows[r].append(x)
    return rows


@given(dags())
def test_edges_point_down_and_ranks_are_longest_paths(inputs):
    lay = layered_layout(inputs)
    assert set(lay.pos) == set(inputs)
    assert lay.pos and all(r >= 0 for _, r in lay.pos.values())
    for dst, srcs in inputs.items():
        for src in srcs:
            assert lay.pos[src][1] < lay.pos[dst][1]
    assert {n: r for n, (_, r) in lay.pos.items()} == _longest_to(inputs)
    # one drawn edge per distinct (source, reader) pair
    assert sorted((a, b) for a, b, _ in lay.edges) == sorted(
        {(s, d) for d, srcs in inputs.items() for s in srcs})


@given(dags())
def test_nothing_overlaps_and_long_edges_step_one_rank_at_a_time(inputs):
    lay = layered_layout(inputs)
    for r, xs in _points_by_rank(lay).items():
        xs.sort()
        assert all(b - a >= 1 for a, b in zip(xs, xs[1:])), (r, xs)
    for a, b, bends in lay.edges:
        ranks = [lay.pos[a][1], *(r for _, r in bends), lay.pos[b][1]]
        if bends:
            assert ranks == list(range(ranks[0], ranks[-1] + 1))
        for x, _ in bends:
            assert x * 2 == int(x * 2)  # on the grid of halves


@given(dags())
def test_the_spine_is_a_longest_path_straight_down_the_middle(inputs):
    lay = layered_layout(inputs)
    assert len(lay.spine) == lay.ranks == 1 + max(_longest_to(inputs).values())
    assert [lay.pos[n] for n in lay.spine] == [(0.0, r) for r in range(lay.ranks)]
    for a, b in zip(lay.spine, lay.spine[1:]):
        assert a in inputs[b]


@given(st.integers(1, 300))
def test_a_chain_is_a_vertical_line(n):
    inputs = {"input": [], **{f"l{i}": [f"l{i - 1}" if i > 1 else "input"] for i in range(1, n)}}
    lay = layered_layout(inputs)
    assert [lay.pos[n] for n in inputs] == [(0.0, r) for r in range(n)]
    assert all(bends == () for _, _, bends in lay.edges)


@given(st.integers(0, 6), st.integers(0, 6), st.randoms(use_true_random=False))
def test_two_branches_between_a_split_and_a_concat_sit_side_by_side(a, b, rnd):
    """split -> a layers -> cat and split -> b layers -> cat, defined in any order that
    respects the data flow: the branches (their layers or the edge's bends) never share
    a column on any rank between split and cat; split and cat stay on one vertical."""
    branches = [[f"a{i}" for i in range(a)], [f"b{i}" for i in range(b)]]
    # a random interleaving of the two branches keeps each branch in order
    order, heads = [], [0, 0]
    while heads[0] < a or heads[1] < b:
        k = rnd.choice([k for k in (0, 1) if heads[k] < len(branches[k])])
        order.append(branches[k][heads[k]])
        heads[k] += 1
    inputs: dict[str, list[str]] = {"input": [], "split": ["input"]}
    for name in order:
        i = int(name[1:])
        inputs[name] = ["split" if i == 0 else f"{name[0]}{i - 1}"]
    inputs["cat"] = [br[-1] if br else "split" for br in branches]
    inputs["out"] = ["cat"]
    lay = layered_layout(inputs)
    assert lay.pos["split"][0] == lay.pos["cat"][0]

    def column(br: list[str], last: str) -> dict[int, float]:
        xs = {lay.pos[n][1]: lay.pos[n][0] for n in br}
        for src, dst, bends in lay.edges:
            if dst == "cat" and src == last:
                xs.update({r: x for x, r in bends})
        return xs

    ca = column(branches[0], branches[0][-1] if a else "split")
    cb = column(branches[1], branches[1][-1] if b else "split")
    for r in set(ca) & set(cb):
        assert ca[r] != cb[r], (r, ca, cb)
    if a != b:  # the longer branch is the spine, the other one beside it
        short = cb if a > b else ca
        assert all(x != 0 for x in short.values())


def test_not_in_topological_order_is_refused():
    with pytest.raises(ValueError, match="'a' reads 'b'"):
        layered_layout({"a": ["b"], "b": []})


def test_the_dummy_cap_keeps_a_dense_graph_linear():
    """Every layer reads every earlier one (DenseNet-like): without a cap the bends would
    grow quadratically; with one the layout still places every node."""
    n = 60
    inputs = {f"n{i}": [f"n{j}" for j in range(i)] for i in range(n)}
    lay = layered_layout(inputs, max_dummies=200)
    assert sum(len(b) for _, _, b in lay.edges) <= 200
    assert [lay.pos[f"n{i}"] for i in range(n)] == [(0.0, i) for i in range(n)]


def _load(name: str):
    return archcost.load(SPECS / f"{name}.yaml")


def _layout_of(model):
    return layered_layout({n: model.nodes[n].inputs for n in model.order})


def test_resnet50_shortcuts_run_beside_the_main_chain():
    m = _load("resnet50")
    lay = _layout_of(m)
    # He et al. 2016, Table 1: 3 + 4 + 6 + 3 bottleneck blocks, the first of each stage
    # with a projection (downsample) shortcut, the others with an identity one.
    downsample = [n for n in m.order if n.endswith(".downsample")]
    assert len(downsample) == 4
    assert all(lay.pos[n][0] != 0 for n in downsample)
    adds = [n for n in m.order if n.endswith(".add")]
    assert len(adds) == 16
    assert all(lay.pos[n][0] == 0 for n in adds)  # the main chain runs straight down
    identity = [(a, b, bends) for a, b, bends in lay.edges
                if b in adds and a.endswith(".relu") or a == "maxpool" and b in adds]
    assert len(identity) == 12
    assert all(bends and all(x != 0 for x, _ in bends) for _, _, bends in identity)


def test_unet_skips_run_beside_and_do_not_cross_each_other():
    lay = _layout_of(_load("unet"))
    # Ronneberger et al. 2015, Fig. 1: four skip connections (copy and crop).
    skips = [(a, b, bends) for a, b, bends in lay.edges if b.endswith(".crop") and bends]
    assert len(skips) == 4
    columns = [bends[0][0] for _, _, bends in sorted(skips, key=lambda e: lay.pos[e[0]][1])]
    assert all(x != 0 for x in columns)
    # nested like the U: the outermost skip (enc1 -> dec1) is the farthest from the spine
    assert [abs(x) for x in columns] == sorted((abs(x) for x in columns), reverse=True)


# ------------------------------------------------------------------------ the figure

@pytest.fixture
def tiny(write_spec):
    return [archcost.load(write_spec(RESIDUAL, "res.yaml")),
            archcost.load(write_spec(SHUFFLE, "shuffle.yaml"))]


def _label_traces(fig):
    return [t for t in fig.data if t.mode == "markers+text"]


def test_every_layer_has_a_label_with_name_kind_and_output_shape(tiny):
    for m in tiny:
        fig = fig_graph(m.network)
        labels = [text for t in _label_traces(fig) for text in t.text]
        assert len(labels) == len(m.order)
        for name in m.order:
            node = m.nodes[name]
            shape = "×".join(map(str, node.output_shape.dims))
            assert any(lab.startswith(f"<b>{name}</b><br>{node.kind}<br>")
                       and shape in lab for lab in labels), name
    shuffle = fig_graph(tiny[1].network)
    split = next(lab for t in _label_traces(shuffle) for lab in t.text
                 if lab.startswith("<b>split</b>"))
    assert split.endswith("2 × 12×16×16")  # channel_split: 24 channels into two halves


def _rgb(color: str) -> tuple[int, ...]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def test_boxes_use_the_same_kind_colours_as_the_layers_chart(tiny):
    """Each box is its kind's bar colour lightened towards white (one mixing factor for
    all three channels), with a darker edge of the same hue."""
    for m in tiny:
        df = m.analyze()
        bars = {t.name: t.marker.color for t in fig_layers(df, _layer_hover(df, m.graph)).data}
        boxes = {t.name: t for t in fig_graph(m.network).data if t.fill == "toself"}
        assert set(bars) <= set(boxes)
        for kind, color in bars.items():
            c, f = _rgb(color), _rgb(boxes[kind].fillcolor)
            alphas = [(255 - fv) / (255 - cv) for cv, fv in zip(c, f) if cv < 250]
            assert all(abs(a - alphas[0]) < 0.03 for a in alphas), (kind, color, alphas)
            edge = _rgb(boxes[kind].line.color)
            assert all(abs(e - 0.7 * cv) <= 1 for cv, e in zip(c, edge)), (kind, color)


def test_hover_shows_the_formulas(tiny):
    m = tiny[0]
    fig = fig_graph(m.network)
    hover = {h.split("</b>")[0][3:]: h for t in _label_traces(fig) for h in t.hovertext}
    # conv1: 3×3 stride-2 conv, 3 -> 16 channels, 32×32 -> 16×16: C_out·k·k·C_in·H·W
    macs = 16 * 3 * 3 * 3 * 16 * 16
    assert f"macs: C_out·(k·C_in/g)·out = 16·(3·3·3)·(16·16) = {macs:,}" in hover["conv1"]
    assert "params: " in hover["conv1"] and "per sample" not in hover["conv1"]
    assert "per sample:" in next(h for t in _label_traces(fig_graph(m.network, 8))
                                 for h in t.hovertext if h.startswith("<b>conv1<"))
    assert "macs" not in hover["stage1_1.relu1"]  # rows worth zero are left out


def test_names_and_fields_are_escaped():
    evil = "<img src=x onerror=alert(1)>"
    node = Node(name=evil, layer=None, inputs=(), ports=(), input_shapes=(),
                output_shapes=(Shape((3, 8, 8)),), file=None, line=None, order=0)
    fig = fig_graph(Network("n", {evil: node}, (evil,), {evil: ()}))
    texts = [s for t in _label_traces(fig) for s in (*t.text, *t.hovertext)]
    assert texts and not any("<img" in s for s in texts)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in s for s in texts)


def test_long_names_are_shortened_in_the_box_not_in_the_hover(write_spec):
    long = "a" * 20 + ".b" + "c" * 30
    m = archcost.load(write_spec(f"""
        archcost: 1
        name: Long
        input: [3, 8, 8]
        layers:
          - {{name: {long}, type: relu}}
    """))
    fig = fig_graph(m.network)
    (label,) = [lab for t in _label_traces(fig) for lab in t.text if "ccc" in lab]
    shown = label.split("</b>")[0][3:]
    assert shown.startswith("…") and len(shown) == GRAPH_NAME_CHARS
    assert any(h.startswith(f"<b>{long}</b>") for t in _label_traces(fig) for h in t.hovertext)


def _crossings(lay) -> int:
    """Pairs of edge segments between the same two ranks whose ends swap sides (counted
    from the drawn points, independently of the layout's own bookkeeping)."""
    rows: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for a, b, bends in lay.edges:
        pts = [lay.pos[a], *bends, lay.pos[b]]
        if len(pts) == 2 and pts[1][1] - pts[0][1] > 1:
            continue  # over the dummy cap: drawn straight, not between two ranks
        for (x0, r0), (x1, _) in zip(pts, pts[1:]):
            rows[r0].append((x0, x1))
    return sum((p[0] - q[0]) * (p[1] - q[1]) < 0
               for segs in rows.values() for i, p in enumerate(segs) for q in segs[i + 1:])


@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.yaml")))
def test_no_edges_cross_in_the_zoo(name):
    """Every network in specs/ draws without a crossing (UNet's first, depth-first order
    has four: the barycenter sweeps undo them)."""
    assert _crossings(_layout_of(_load(name))) == 0


def test_crossings_are_counted():
    """The counter above sees the crossing in K(2,2) drawn with one order per rank."""
    inputs = {"a": [], "b": [], "c": ["a", "b"], "d": ["a", "b"]}
    lay = layered_layout(inputs)
    assert _crossings(lay) == 1  # a complete bipartite pair always crosses once
