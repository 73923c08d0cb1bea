/**
 * How the console shows a value from the API: short ones in full, long ones folded.
 */

import { h } from "./dom.js";
import { decodeJson } from "./format.js";

/** Longer than this (or on several lines), a value is folded under a one-line summary. */
const FOLD_CHARS = 160;
const SUMMARY_CHARS = 70;

/**
 * A block showing `value` (JSON-in-a-string fields are decoded first), folded with <details> when long.
 * @param {*} value
 * @param {Object<string, string>} [attrs] attributes of the block (e.g. {"data-test": "task-result"})
 * @param {{fold: boolean}} [options] fold: false shows a long value in full (a state_info says why)
 * @returns {HTMLElement}
 */
export function valueBlock(value, attrs = {}, { fold = true } = {}) {
  const decoded = decodeJson(value);
  const isText = typeof decoded === "string";
  const oneLine = isText ? decoded : JSON.stringify(decoded ?? null);
  // NOTE: a short value is shown on its line as it is; only a long one is laid out, and folded.
  if (oneLine.length <= FOLD_CHARS && !oneLine.includes("\n")) {
    return h("div", { class: "value", ...attrs }, h("pre", { class: "mono" }, oneLine));
  }
  const full = h("pre", { class: "mono" }, isText ? decoded : JSON.stringify(decoded, null, 2));
  if (!fold) return h("div", { class: "value", ...attrs }, full);
  const summary =
    oneLine.length > SUMMARY_CHARS ? `${oneLine.slice(0, SUMMARY_CHARS)}… (${oneLine.length} characters)` : oneLine;
  return h("details", { class: "value", ...attrs }, h("summary", { class: "mono" }, summary), full);
}
