/**
 * Times of the v2 API and the time axis of the timeline: spans, pixel scale, ticks, labels.
 * All times are milliseconds since the epoch, UTC, as the API gives them.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Tick steps a reader counts in easily; a longer span uses whole weeks.
const STEPS = [
  ...[1, 2, 5, 10, 15, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR),
  ...[1, 2, 7].map((n) => n * DAY),
];
// The API's own format (UTC, no zone); an ISO time with a zone is left to Date.parse.
const API_TIME = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z?$/;
// A task in these states has not started: it has no bar, only a marker.
const NOT_STARTED = new Set(["IDLE", "WAITING"]);
const FINISHED = new Set(["SUCCESS", "ERROR", "CANCELLED"]);

/**
 * A time of the API (`2026-11-30 03:00:00`, UTC) in milliseconds; null for none or a bad value.
 * @param {string|null|undefined} text
 * @returns {number|null}
 */
export function parseApiTime(text) {
  if (!text) return null;
  // NOTE: read by hand: Date.parse costs several microseconds, and a timeline of a thousand tasks
  // reads four thousand times per refresh.
  const m = API_TIME.exec(text);
  if (m) {
    const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    return Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6], fraction);
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * When a task ran: from started_at (else created_at) to finished_at (else updated_at once it
 * finished, else `now`); null for a task that has not started.
 * @param {{state: string, started_at?: string, created_at?: string, finished_at?: string,
 *          updated_at?: string}} task a v2 task object
 * @param {number} now
 * @returns {{start: number, end: number}|null}
 */
export function taskSpan(task, now) {
  const started = parseApiTime(task.started_at);
  if (started === null && NOT_STARTED.has(task.state)) return null;
  const start = started ?? parseApiTime(task.created_at);
  if (start === null) return null;
  const finished = parseApiTime(task.finished_at) ?? (FINISHED.has(task.state) ? parseApiTime(task.updated_at) : null);
  return { start, end: Math.max(start, finished ?? now) };
}

/**
 * When an action execution ran: created_at to updated_at once it finished, else `now`.
 * @param {{state: string, created_at?: string, updated_at?: string}} action a v2 action execution
 * @param {number} now
 * @returns {{start: number, end: number}|null}
 */
export function actionSpan(action, now) {
  const start = parseApiTime(action.created_at);
  if (start === null) return null;
  const end = FINISHED.has(action.state) ? parseApiTime(action.updated_at) ?? now : now;
  return { start, end: Math.max(start, end) };
}

/**
 * The smallest readable step that draws at most `maxTicks` ticks over `span` milliseconds.
 * @param {number} span
 * @param {number} maxTicks
 * @returns {number}
 */
export function niceStep(span, maxTicks) {
  const wanted = span / Math.max(1, maxTicks);
  const step = STEPS.find((s) => s >= wanted);
  return step ?? Math.ceil(wanted / (7 * DAY)) * 7 * DAY;
}

/**
 * A linear scale from [start, end] (ms) to [left, right] (px), with tick times on whole steps.
 * A span shorter than a second is widened to one, so that a scale always has a width.
 * @param {number} start
 * @param {number} end
 * @param {number} left
 * @param {number} right
 * @param {number} maxTicks
 * @returns {{start: number, end: number, step: number, ticks: number[], x: function(number): number}}
 */
export function timeScale(start, end, left, right, maxTicks) {
  const stop = Math.max(end, start + SECOND);
  const perMs = (right - left) / (stop - start);
  const step = niceStep(stop - start, maxTicks);
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= stop; t += step) ticks.push(t);
  return { start, end: stop, step, ticks, x: (ms) => left + (ms - start) * perMs };
}

/**
 * A tick's label (UTC): seconds shown when the step is under a minute, the date when it is a day or more.
 * @param {number} ms
 * @param {number} step
 * @returns {string}
 */
export function formatTick(ms, step) {
  const iso = new Date(ms).toISOString();
  if (step >= DAY) return iso.slice(5, 10);
  if (step >= MINUTE) return iso.slice(11, 16);
  return iso.slice(11, 19);
}

/**
 * An API-like UTC time for a title: `2026-11-30 03:00:00`.
 * @param {number} ms
 * @returns {string}
 */
export function formatUtc(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
