/**
 * A small layered layout for task graphs: pure (no DOM), so node can test it.
 * Cycles are broken by reversing back edges (found by a depth-first search); each node goes to the
 * layer after its deepest predecessor (longest path); a few barycenter sweeps order each layer to
 * reduce crossings; a layer wider than `maxPerRow` wraps onto several rows.
 */

const DEFAULTS = { nodeWidth: 150, nodeHeight: 36, gapX: 24, gapY: 56, margin: 16, maxPerRow: 30, sweeps: 4 };

/**
 * @typedef {Object} Placed
 * @property {number} x left
 * @property {number} y top
 * @property {number} layer
 * @property {number} order position in its layer
 */

/**
 * Lay out a directed graph, top to bottom.
 * @param {string[]} nodes node ids, in the order to keep where nothing else decides
 * @param {{from: string, to: string}[]} edges
 * @param {Object} [options] nodeWidth, nodeHeight, gapX, gapY, margin, maxPerRow, sweeps
 * @returns {{positions: Map<string, Placed>, back: Set<number>, width: number, height: number,
 *   nodeWidth: number, nodeHeight: number}} `back` holds the indexes of the edges drawn against the flow
 */
export function layout(nodes, edges, options = {}) {
  const opt = { ...DEFAULTS, ...options };
  const index = new Map(nodes.map((id, i) => [id, i]));
  const usable = edges
    .map((e, i) => ({ from: index.get(e.from), to: index.get(e.to), i }))
    .filter((e) => e.from !== undefined && e.to !== undefined && e.from !== e.to);
  const back = backEdges(nodes.length, usable);
  const forward = usable.filter((e) => !back.has(e.i));
  const layerOf = longestPathLayers(nodes.length, forward);
  const layers = orderLayers(nodes.length, layerOf, forward, opt.sweeps);
  const placed = coordinates(nodes, layers, opt);
  return { ...placed, back, nodeWidth: opt.nodeWidth, nodeHeight: opt.nodeHeight };
}

/** Edges closing a cycle in a depth-first search started from the nodes nothing leads to. */
function backEdges(count, edges) {
  const out = Array.from({ length: count }, () => []);
  const indegree = new Array(count).fill(0);
  for (const e of edges) {
    out[e.from].push(e);
    indegree[e.to] += 1;
  }
  const state = new Uint8Array(count); // 0 new, 1 on the stack, 2 done
  const back = new Set();
  const starts = [...Array(count).keys()].sort((a, b) => (indegree[a] === 0 ? 0 : 1) - (indegree[b] === 0 ? 0 : 1));
  for (const start of starts) {
    if (state[start]) continue;
    // NOTE: iterative, so a chain of thousands of tasks cannot overflow the call stack.
    const stack = [[start, 0]];
    state[start] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [v, next] = top;
      if (next < out[v].length) {
        top[1] += 1;
        const e = out[v][next];
        if (state[e.to] === 1) back.add(e.i);
        else if (state[e.to] === 0) {
          state[e.to] = 1;
          stack.push([e.to, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  return back;
}

/** Layer of each node: 0 for sources, else one more than its deepest predecessor (Kahn's order). */
function longestPathLayers(count, edges) {
  const out = Array.from({ length: count }, () => []);
  const indegree = new Array(count).fill(0);
  for (const e of edges) {
    out[e.from].push(e.to);
    indegree[e.to] += 1;
  }
  const layer = new Array(count).fill(0);
  const queue = [];
  for (let v = 0; v < count; v++) if (indegree[v] === 0) queue.push(v);
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of out[v]) {
      layer[w] = Math.max(layer[w], layer[v] + 1);
      if (--indegree[w] === 0) queue.push(w);
    }
  }
  return layer;
}

/** Each layer's nodes, ordered by barycenter sweeps (the best order seen by crossings is kept). */
function orderLayers(count, layerOf, edges, sweeps) {
  const depth = count ? Math.max(...layerOf) + 1 : 0;
  const layers = Array.from({ length: depth }, () => []);
  for (let v = 0; v < count; v++) layers[layerOf[v]].push(v);
  const preds = Array.from({ length: count }, () => []);
  const succs = Array.from({ length: count }, () => []);
  for (const e of edges) {
    preds[e.to].push(e.from);
    succs[e.from].push(e.to);
  }
  let best = layers.map((l) => l.slice());
  let bestCrossings = crossings(best, layerOf, edges);
  for (let sweep = 0; sweep < sweeps && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? [...layers.keys()].slice(1) : [...layers.keys()].reverse().slice(1);
    for (const i of order) reorder(layers, i, down ? preds : succs, layerOf);
    const found = crossings(layers, layerOf, edges);
    if (found < bestCrossings) {
      bestCrossings = found;
      best = layers.map((l) => l.slice());
    }
  }
  return best;
}

/** Sort layer `i` by the mean centred position of each node's neighbours (nodes without any keep theirs). */
function reorder(layers, i, neighbours, layerOf) {
  const position = centredPositions(layers);
  const layer = layers[i];
  const key = new Map();
  for (const v of layer) {
    const near = neighbours[v].filter((w) => layerOf[w] !== i);
    key.set(v, near.length ? near.reduce((sum, w) => sum + position.get(w), 0) / near.length : position.get(v));
  }
  layer.sort((a, b) => key.get(a) - key.get(b));
}

function centredPositions(layers) {
  const position = new Map();
  for (const layer of layers) layer.forEach((v, k) => position.set(v, k - (layer.length - 1) / 2));
  return position;
}

/**
 * Crossings between edges joining the same two consecutive layers (a count of inversions).
 * @param {number[][]} layers
 * @param {number[]} layerOf
 * @param {{from: number, to: number}[]} edges
 * @returns {number}
 */
export function crossings(layers, layerOf, edges) {
  const order = new Map();
  for (const layer of layers) layer.forEach((v, k) => order.set(v, k));
  const byLayer = new Map();
  for (const e of edges) {
    if (layerOf[e.to] !== layerOf[e.from] + 1) continue;
    const list = byLayer.get(layerOf[e.from]) || [];
    list.push([order.get(e.from), order.get(e.to)]);
    byLayer.set(layerOf[e.from], list);
  }
  let total = 0;
  for (const list of byLayer.values()) {
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    total += inversions(list.map((pair) => pair[1]));
  }
  return total;
}

function inversions(values) {
  if (values.length < 2) return 0;
  const mid = values.length >> 1;
  const left = values.slice(0, mid);
  const right = values.slice(mid);
  let count = inversions(left) + inversions(right);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < left.length && j < right.length) {
    if (left[i] <= right[j]) values[k++] = left[i++];
    else {
      values[k++] = right[j++];
      count += left.length - i;
    }
  }
  while (i < left.length) values[k++] = left[i++];
  while (j < right.length) values[k++] = right[j++];
  return count;
}

/** Top-left corners: rows centred on the widest one; a long layer continues on the next rows. */
function coordinates(nodes, layers, opt) {
  const rows = [];
  layers.forEach((layer, layerIndex) => {
    for (let start = 0; start < layer.length; start += opt.maxPerRow) {
      rows.push({ layer: layerIndex, start, members: layer.slice(start, start + opt.maxPerRow) });
    }
  });
  const widest = Math.max(1, ...rows.map((r) => r.members.length));
  const stepX = opt.nodeWidth + opt.gapX;
  const stepY = opt.nodeHeight + opt.gapY;
  const positions = new Map();
  rows.forEach((row, rowIndex) => {
    const offset = ((widest - row.members.length) * stepX) / 2;
    row.members.forEach((v, k) => {
      positions.set(nodes[v], {
        x: opt.margin + offset + k * stepX,
        y: opt.margin + rowIndex * stepY,
        layer: row.layer,
        order: row.start + k,
      });
    });
  });
  return {
    positions,
    width: 2 * opt.margin + widest * stepX - opt.gapX,
    height: 2 * opt.margin + Math.max(1, rows.length) * stepY - opt.gapY,
  };
}
