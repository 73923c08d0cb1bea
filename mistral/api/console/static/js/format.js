/**
 * How the console shows times, durations and the API's JSON-in-a-string fields.
 */

/**
 * Milliseconds since the epoch of an API time ("2024-01-31 13:00:00", UTC); NaN when absent.
 * @param {string|null|undefined} text
 * @returns {number}
 */
export function parseTime(text) {
  return text ? Date.parse(text.replace(" ", "T") + "Z") : NaN;
}

/**
 * An API time as the API writes it, with its zone, or "" when absent.
 * @param {string|null|undefined} text
 * @returns {string}
 */
export function formatTime(text) {
  return text ? `${text} UTC` : "";
}

/**
 * "2h 5m", "3m 12s", "8s" between two times in milliseconds; "" when either is NaN.
 * @param {number} startMs
 * @param {number} endMs
 * @returns {string}
 */
export function formatDuration(startMs, endMs) {
  if (Number.isNaN(startMs) || Number.isNaN(endMs)) return "";
  let seconds = Math.max(0, Math.round((endMs - startMs) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  seconds %= 60;
  if (hours) return `${hours}h ${minutes}m`;
  if (minutes) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

/**
 * A field the API sends as a JSON string (input, output, published, runtime_context...), decoded;
 * anything that is not such a string is returned as it is.
 * @param {*} value
 * @returns {*}
 */
export function decodeJson(value) {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The states after which nothing changes by itself. */
export const FINAL_STATES = new Set(["SUCCESS", "ERROR", "CANCELLED"]);
