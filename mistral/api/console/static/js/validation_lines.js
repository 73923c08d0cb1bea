/**
 * The problems of a validate answer, each with the YAML line it names.
 *
 * The server's error reads `Invalid DSL: 2 problem(s):\n  - wf.tasks.a.x: unknown keyword 'x' (line 7)\n
 *   - ...` (mistral/exceptions.py InvalidSpecError, mistral/lang/problems.py); a YAML syntax error
 * says `Invalid YAML at line 5, column 1: ...` (mistral/lang/yaml_loader.py).
 */

/** @typedef {{message: string, line: (number|null)}} Problem */

const HEADER = /^Invalid DSL: \d+ problem\(s\):\n/;
const ITEM = /\n {2}- /;
const LINE_PATTERNS = [/\(line (\d+)\)\s*$/, /\bat line (\d+)\b/];

/**
 * Split a validation error into its problems.
 * @param {string} error the `error` of `{"valid": false, "error": ...}`
 * @returns {Problem[]}
 */
export function validationProblems(error) {
  const text = (error || "").trim();
  if (!text) return [];
  const header = HEADER.exec(text);
  const items = header ? ("\n" + text.slice(header[0].length)).split(ITEM).slice(1) : [text];
  return items.map((message) => ({ message: message.trim(), line: lineOf(message) }));
}

/**
 * The YAML line (1-based) a problem names, or null.
 * @param {string} message
 * @returns {number|null}
 */
export function lineOf(message) {
  for (const pattern of LINE_PATTERNS) {
    const match = pattern.exec(message);
    if (match) return Number(match[1]);
  }
  return null;
}

/**
 * The offset of the first character of `line` (1-based) in `text`; past the end, the text's end.
 * @param {string} text
 * @param {number} line
 * @returns {number}
 */
export function lineStart(text, line) {
  let offset = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset;
}
