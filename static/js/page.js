/* Helpers every page script shares (base.html loads this file before any of them): the
 * #strings catalogue, the one `fmt`, refusal text, JSON data the server put in the page, and
 * text-only DOM building (data is never put in the page as HTML). Plain ES2017, no build step. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  /* The JSON in <script type="application/json" id="…">, or `fallback` when the page has none. */
  function json(id, fallback) {
    var node = $(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var S = json("strings", {});

  /* The catalogue's text for `key` (or `key` itself) with each {name} filled from `values`;
   * a name given as null or undefined becomes "", a name not given at all stays visible. */
  function fmt(key, values) {
    var text = S[key] !== undefined ? String(S[key]) : String(key);
    return text.replace(/\{(\w+)\}/g, function (m, name) {
      if (!values || !Object.prototype.hasOwnProperty.call(values, name)) return m;
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  /* Every element matching `selector` under `root` (default: the document), as an array. */
  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function refusalText(ack) {
    if (ack && ack.message) return ack.message;
    return (ack && S.refusals && S.refusals[ack.reason]) || S.refusal_fallback;
  }

  function el(tag, className, text) {
    var created = document.createElement(tag);
    if (className) created.className = className;
    if (text !== undefined && text !== null) created.textContent = text;
    return created;
  }

  function setText(id, text) { $(id).textContent = text == null ? "" : text; }

  /* An option's mark in the hall's one option language: its letter (the payload's `letter`),
   * with the colour and shape of its place (CSS .mark-0 … .mark-5), the same on screen and phone. */
  function mark(letter, extra) {
    var index = Math.max(0, "ABCDEFGH".indexOf(letter));
    var node = el("span", "mark mark-" + index + (extra ? " " + extra : ""));
    var shape = el("span", "mark-shape");
    shape.setAttribute("aria-hidden", "true");
    node.appendChild(shape);
    node.appendChild(el("span", "mark-letter", letter));
    return node;
  }

  window.QuizPage = {
    S: S, $: $, json: json, fmt: fmt, all: all, refusalText: refusalText, el: el, setText: setText,
    mark: mark
  };
})();
