/**
 * A workflow's input signature as form fields, and the input a filled form sends.
 *
 * The v2 workflow object carries the signature twice: `interface.input` (a JSON list of `name` or
 * `{name: default}`) and `input`, a display string. Workflows render each default as its Python
 * text in double quotes (`a, b="2", c="None"`, mistral/utils/inputs.py format_workflow_spec) and
 * actions as JSON (`url, method="GET", params=null, **kwargs`, format_spec). The string loses the
 * type of a workflow default, so the interface is preferred and the string is the fallback.
 */

/** @typedef {{name: string, defaultText: (string|null)}} InputField  defaultText null: required */

// The next parameter after a quoted default: `, name=`, `, name,`, `, name` at the end, or the end.
const NEXT_PARAM = /^(\s*$|,\s*(\*\*)?[^\s=,"]+\s*(=|,|$))/;
const NAME = /^(\*\*)?([^\s=,]+)\s*/;
const OPENERS = { "[": "]", "{": "}", "(": ")" };

/**
 * The fields of a workflow's input, in declaration order.
 * @param {{interface?: (string|Object), input?: string}} workflow a v2 workflow object (the API sends
 *   `interface` as a JSON string, `{"input": [...], "output": [...]}`)
 * @returns {InputField[]}
 */
export function inputFields(workflow) {
  const iface = typeof workflow.interface === "string" ? fieldValue(workflow.interface) : workflow.interface;
  const declared = iface && iface.input;
  if (Array.isArray(declared)) {
    return declared.map((entry) => {
      if (typeof entry === "string") return { name: entry, defaultText: null };
      const [name, value] = Object.entries(entry)[0];
      return { name, defaultText: valueText(value) };
    });
  }
  return parseSignature(workflow.input || "");
}

/**
 * Parse a signature string such as `a, b="1", c=[1, 2], **kwargs` (`**` parameters are left out:
 * they take any extra input and have no field).
 * @param {string} text
 * @returns {InputField[]}
 */
export function parseSignature(text) {
  const fields = [];
  let rest = text.trim();
  while (rest) {
    const match = NAME.exec(rest);
    if (!match) break;
    rest = rest.slice(match[0].length);
    let defaultText = null;
    if (rest.startsWith("=")) {
      const end = valueEnd(rest, 1);
      defaultText = unquote(rest.slice(1, end).trim());
      rest = rest.slice(end);
    }
    if (!match[1]) fields.push({ name: match[2], defaultText });
    rest = rest.replace(/^\s*,\s*/, "");
  }
  return fields;
}

/**
 * A field's value: its text parsed as JSON when it is JSON, else the text itself.
 * @param {string} text
 * @returns {*}
 */
export function fieldValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The input of a start request: every required field that was filled, and every optional field
 * whose text was changed. An untouched default is left to the server, which knows its exact type;
 * an empty required field is left out, so that the server names it missing (an empty string is
 * typed `""`).
 * @param {InputField[]} fields
 * @param {Object<string, string>} texts the text of each field, by name
 * @returns {Object<string, *>}
 */
export function startInput(fields, texts) {
  const input = {};
  for (const field of fields) {
    const text = texts[field.name] ?? field.defaultText ?? "";
    const wanted = field.defaultText === null ? text !== "" : text !== field.defaultText;
    if (wanted) input[field.name] = fieldValue(text);
  }
  return input;
}

/**
 * How a JSON default is shown in a field: a string as itself, anything else as JSON, so that
 * `fieldValue` gives the same value back.
 * @param {*} value
 * @returns {string}
 */
export function valueText(value) {
  if (typeof value === "string" && fieldValue(value) === value) return value;
  return JSON.stringify(value);
}

// Where the default starting at `start` ends: a quoted one at the quote that precedes the next
// parameter (a workflow default is not escaped, so it may itself hold quotes), any other at the
// first comma outside brackets and JSON strings.
function valueEnd(text, start) {
  if (text[start] === '"') {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '"' && NEXT_PARAM.test(text.slice(i + 1))) return i + 1;
    }
    return text.length;
  }
  const closers = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (OPENERS[ch]) {
      closers.push(OPENERS[ch]);
    } else if (ch === closers[closers.length - 1]) {
      closers.pop();
    } else if (ch === "," && closers.length === 0) {
      return i;
    }
  }
  return text.length;
}

// A quoted default without its quotes: a JSON string decoded, a workflow's Python text as is.
function unquote(raw) {
  if (raw.length < 2 || !raw.startsWith('"') || !raw.endsWith('"')) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw.slice(1, -1);
  }
}
