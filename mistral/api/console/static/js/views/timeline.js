/**
 * The timeline (Gantt) of an execution: one row per task, its action executions as thin bars inside
 * the row, a time axis on top. Drawn as one SVG string, parsed once, so a thousand tasks cost one
 * parse and no per-row DOM calls.
 */

import { formatDuration } from "../format.js";
import { actionSpan, formatTick, formatUtc, taskSpan, timeScale } from "../time_scale.js";

const ROW = 20;
const TASK_BAR = 14;
const ACTION_BAR = 4;
const AXIS = 24;
// Room for half a tick label past the last tick.
const RIGHT_PAD = 36;
const MIN_TICK_GAP = 90;
const CHAR_WIDTH = 7;
const FALLBACK_WIDTH = 800;
// Beyond this many actions in a row (a large with-items), the bars of one state are merged where they
// touch on screen: the row shows the same picture with at most a bar per pixel.
const MAX_ACTION_BARS = 100;

/**
 * Draw the timeline of `tasks` into `container` (its content is replaced).
 * @param {HTMLElement} container
 * @param {Object[]} tasks v2 task objects (name, state, started_at, finished_at, created_at, updated_at)
 * @param {Object<string, Object[]>} actionsByTask v2 action execution objects by task execution id
 */
export function renderTimeline(container, tasks, actionsByTask) {
  const now = Date.now();
  const rows = orderedRows(tasks, actionsByTask || {}, now);
  const width = Math.max(container.clientWidth || FALLBACK_WIDTH, 320);
  const labelWidth = width < 600 ? 110 : 190;
  const [start, end] = bounds(rows, now);
  const scale = timeScale(start, end, labelWidth, width - RIGHT_PAD, Math.floor((width - labelWidth) / MIN_TICK_GAP));
  const height = AXIS + rows.length * ROW + 4;
  const parts = [axis(scale, height)];
  rows.forEach((row, i) => parts.push(taskRow(row, AXIS + i * ROW, scale, labelWidth)));
  container.innerHTML =
    `<svg data-test="timeline" class="tl" role="img" aria-label="Timeline of ${rows.length} tasks" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join("")}</svg>`;
}

// Started tasks by start time, then the ones that have not started (markers at the end).
function orderedRows(tasks, actionsByTask, now) {
  const rows = tasks.map((task) => ({
    task,
    span: taskSpan(task, now),
    actions: (actionsByTask[task.id] || []).map((action) => ({ action, span: actionSpan(action, now) })),
  }));
  const started = rows.filter((row) => row.span);
  started.sort((a, b) => a.span.start - b.span.start || a.task.name.localeCompare(b.task.name));
  return started.concat(rows.filter((row) => !row.span));
}

function bounds(rows, now) {
  let start = Infinity;
  let end = -Infinity;
  for (const row of rows) {
    for (const { span } of [row, ...row.actions]) {
      if (!span) continue;
      start = Math.min(start, span.start);
      end = Math.max(end, span.end);
    }
  }
  return start === Infinity ? [now, now] : [start, end];
}

function axis(scale, height) {
  const ticks = scale.ticks.map((t) => {
    const x = scale.x(t).toFixed(1);
    return (
      `<line class="tl-grid" x1="${x}" x2="${x}" y1="${AXIS - 4}" y2="${height}"/>` +
      `<text class="tl-tick" x="${x}" y="${AXIS - 8}" text-anchor="middle">${formatTick(t, scale.step)}</text>`
    );
  });
  return `<g class="tl-axis"><title>Times in UTC</title>${ticks.join("")}</g>`;
}

function taskRow({ task, span, actions }, y, scale, labelWidth) {
  const name = escapeXml(task.name);
  const state = escapeXml(task.state);
  const shown = clip(task.name, labelWidth);
  const full = shown === task.name ? "" : `<title>${name}</title>`;
  const label = `<text class="tl-label" x="4" y="${y + ROW / 2 + 4}">${full}${escapeXml(shown)}</text>`;
  const open = `<g class="tl-row" data-task="${name}" data-state="${state}">${label}`;
  if (!span) {
    const x = labelWidth + 6;
    const mid = y + ROW / 2;
    return (
      `${open}<path class="tl-marker" d="M${x} ${mid - 5}l5 5l-5 5l-5 -5z">` +
      `<title>${name}: ${state}, not started</title></path></g>`
    );
  }
  const x1 = scale.x(span.start);
  const barY = y + (ROW - TASK_BAR) / 2;
  const bar =
    `<rect class="tl-bar" x="${x1.toFixed(1)}" y="${barY}" width="${barWidth(x1, scale.x(span.end))}" ` +
    `height="${TASK_BAR}" rx="2"><title>${name}: ${state}\n${spanText(span)}</title></rect>`;
  const actionY = barY + TASK_BAR - ACTION_BAR - 1;
  return `${open}${bar}${actionBars(actions, actionY, scale)}</g>`;
}

function actionBars(actions, y, scale) {
  const drawn = actions.filter((a) => a.span);
  if (drawn.length <= MAX_ACTION_BARS) {
    return drawn
      .map(({ action, span }) => {
        const x1 = scale.x(span.start);
        const title = `${escapeXml(action.name)}: ${escapeXml(action.state)}\n${spanText(span)}`;
        return actionRect(action.state, x1, scale.x(span.end), y, title);
      })
      .join("");
  }
  return mergedBars(drawn, scale)
    .map(({ state, x1, x2, count }) => actionRect(state, x1, x2, y, `${count} actions: ${escapeXml(state)}`))
    .join("");
}

function actionRect(state, x1, x2, y, title) {
  return (
    `<rect class="tl-action" data-state="${escapeXml(state)}" x="${x1.toFixed(1)}" y="${y}" ` +
    `width="${barWidth(x1, x2)}" height="${ACTION_BAR}"><title>${title}</title></rect>`
  );
}

// The bars of each state, joined where they overlap or touch on screen.
function mergedBars(actions, scale) {
  const byState = new Map();
  for (const { action, span } of actions) {
    if (!byState.has(action.state)) byState.set(action.state, []);
    byState.get(action.state).push([scale.x(span.start), scale.x(span.end)]);
  }
  const merged = [];
  for (const [state, spans] of byState) {
    spans.sort((a, b) => a[0] - b[0]);
    let current = null;
    for (const [x1, x2] of spans) {
      if (current && x1 <= current.x2 + 1) {
        current.x2 = Math.max(current.x2, x2);
        current.count += 1;
      } else {
        current = { state, x1, x2, count: 1 };
        merged.push(current);
      }
    }
  }
  return merged;
}

function spanText(span) {
  return `${formatUtc(span.start)} → ${formatUtc(span.end)} UTC (${formatDuration(span.start, span.end)})`;
}

// A bar of no duration still shows as a sliver.
function barWidth(x1, x2) {
  return Math.max(x2 - x1, 2).toFixed(1);
}

function clip(text, labelWidth) {
  const chars = Math.floor((labelWidth - 8) / CHAR_WIDTH);
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

function escapeXml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
