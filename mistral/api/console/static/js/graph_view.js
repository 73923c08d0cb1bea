/**
 * The task graph as SVG: drawn once from the layout, then only node attributes change.
 */

import { svg } from "./dom.js";
import { layout } from "./graph_layout.js";

const KINDS = ["success", "error", "complete", "requires"];
const LABEL_CHARS = 20;
/** How far a back edge (against the flow) bulges out to the right of its nodes. */
const BACK_BULGE = 40;

/**
 * Draw `graph` (from workflowGraph) into `container`.
 * @param {HTMLElement} container
 * @param {{nodes: Object[], edges: Object[]}} graph
 * @param {function(string): void} onOpen called with a task name when its node is clicked or
 *   activated with Enter or Space
 * @returns {{setState: function(string, string, ?{done: number, count: number, failed: number}): void,
 *   select: function(?string): void}}
 */
export function drawGraph(container, graph, onOpen) {
  const ids = graph.nodes.map((n) => n.id);
  const placed = layout(ids, graph.edges);
  // NOTE: room on the right for the back edges, which bulge out of the layout's box.
  const width = placed.width + BACK_BULGE;
  const root = svg("svg", {
    class: "graph",
    "data-test": "graph",
    width,
    height: placed.height,
    viewBox: `0 0 ${width} ${placed.height}`,
    role: "group",
    "aria-label": "Task graph",
  });
  root.append(markers());
  const edgeLayer = svg("g", { class: "edges" });
  graph.edges.forEach((edge, i) => edgeLayer.append(edgeElement(edge, placed, placed.back.has(i))));
  const nodeLayer = svg("g", { class: "nodes" });
  const elements = new Map();
  for (const node of graph.nodes) {
    const el = nodeElement(node, placed.positions.get(node.id), placed);
    elements.set(node.id, el);
    nodeLayer.append(el.g);
  }
  root.append(edgeLayer, nodeLayer);
  root.addEventListener("click", (event) => {
    const g = event.target.closest("[data-task]");
    if (g) onOpen(g.dataset.task);
  });
  root.addEventListener("keydown", (event) => {
    const g = event.target.closest("[data-task]");
    if (g && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      onOpen(g.dataset.task);
    }
  });
  container.append(root);
  let selected = null;

  return {
    setState(name, state, progress) {
      const el = elements.get(name);
      if (!el) return;
      if (el.g.dataset.state !== state) {
        el.g.dataset.state = state;
        el.g.setAttribute("aria-label", `${name}: ${state}`);
        el.title.textContent = `${name}: ${state}`;
      }
      if (progress && el.progress) {
        const text = `${progress.done}/${progress.count}`;
        if (el.g.dataset.progress !== text) {
          el.g.dataset.progress = text;
          el.progress.textContent = progress.failed ? `${text} (${progress.failed} failed)` : text;
        }
      }
    },
    select(name) {
      if (selected) selected.g.classList.remove("selected");
      selected = name ? elements.get(name) || null : null;
      if (selected) selected.g.classList.add("selected");
    },
  };
}

function markers() {
  return svg(
    "defs",
    {},
    KINDS.map((kind) =>
      svg(
        "marker",
        {
          id: `arrow-${kind}`,
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto-start-reverse",
        },
        svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }),
      ),
    ),
  );
}

function edgeElement(edge, placed, back) {
  const from = placed.positions.get(edge.from);
  const to = placed.positions.get(edge.to);
  const w = placed.nodeWidth;
  const hgt = placed.nodeHeight;
  let d;
  if (back || to.y <= from.y) {
    const x1 = from.x + w;
    const y1 = from.y + hgt / 2;
    const x2 = to.x + w;
    const y2 = to.y + hgt / 2;
    const out = Math.max(x1, x2) + BACK_BULGE;
    d = `M ${x1} ${y1} C ${out} ${y1}, ${out} ${y2}, ${x2} ${y2}`;
  } else {
    const x1 = from.x + w / 2;
    const y1 = from.y + hgt;
    const x2 = to.x + w / 2;
    const y2 = to.y;
    if (y2 - y1 > placed.rowStep) {
      // NOTE: an edge that skips rows runs down the gutter left of its nodes, not through the rows between.
      const lane = Math.min(x1, x2) - w / 2 - placed.gapX / 2;
      const turn = (placed.rowStep - hgt) * 0.8;
      d =
        `M ${x1} ${y1} C ${x1} ${y1 + turn / 2}, ${lane} ${y1 + turn / 2}, ${lane} ${y1 + turn} ` +
        `L ${lane} ${y2 - turn} C ${lane} ${y2 - turn / 2}, ${x2} ${y2 - turn / 2}, ${x2} ${y2}`;
    } else {
      const mid = (y2 - y1) / 2;
      d = `M ${x1} ${y1} C ${x1} ${y1 + mid}, ${x2} ${y2 - mid}, ${x2} ${y2}`;
    }
  }
  const conditional = edge.condition !== undefined;
  const byTags = edge.tags ? `, by the tags ${edge.tags.join(", ")}` : "";
  return svg(
    "path",
    {
      d,
      class: ["edge", conditional && "conditional", edge.tags && "by-tags"].filter(Boolean).join(" "),
      "data-test": "graph-edge",
      "data-from": edge.from,
      "data-to": edge.to,
      "data-kind": edge.kind,
      "data-tags": edge.tags ? edge.tags.join(",") : null,
      "marker-end": `url(#arrow-${edge.kind})`,
    },
    svg(
      "title",
      {},
      `${edge.from} → ${edge.to} (on ${edge.kind}${byTags})${conditional ? `: ${JSON.stringify(edge.condition)}` : ""}`,
    ),
  );
}

function nodeElement(node, at, placed) {
  const label = node.id.length > LABEL_CHARS ? `${node.id.slice(0, LABEL_CHARS - 1)}…` : node.id;
  const marks = [node.subworkflow ? "↳ " : "", node.join ? "⋈ " : ""].join("");
  const title = svg("title", {}, `${node.id}: not started`);
  const progress = node.withItems
    ? svg("text", { class: "progress", x: placed.nodeWidth - 8, y: placed.nodeHeight - 8, "text-anchor": "end" }, "")
    : null;
  const g = svg(
    "g",
    {
      class: node.join ? "node join" : "node",
      "data-test": "graph-node",
      "data-task": node.id,
      "data-state": "NOT_STARTED",
      transform: `translate(${at.x} ${at.y})`,
      tabindex: 0,
      role: "button",
      "aria-label": `${node.id}: not started`,
    },
    title,
    svg("rect", { width: placed.nodeWidth, height: placed.nodeHeight, rx: 6 }),
    svg("text", { x: 8, y: node.withItems ? 15 : placed.nodeHeight / 2 + 4 }, marks + label),
    progress,
  );
  return { g, title, progress };
}
