/**
 * Small helpers to build DOM trees without a framework.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an HTML element.
 * Attributes: `onX` with a function adds a listener for event "x"; `value`/`checked` are set as
 * properties (after the children, so a <select> finds its options); true sets an empty attribute;
 * false, null and undefined are left out; anything else becomes a string attribute.
 * Children: nodes, strings (as text), arrays of them; null and false are skipped.
 * @param {string} tag
 * @param {Object<string, *>} [attrs]
 * @param {...*} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/**
 * Create an SVG element; same rules as {@link h}.
 * @param {string} tag
 * @param {Object<string, *>} [attrs]
 * @param {...*} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  const props = {};
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "value" || name === "checked") {
      props[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  Object.assign(el, props);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Remove every child of an element.
 * @param {Element} el
 */
export function clear(el) {
  el.replaceChildren();
}
