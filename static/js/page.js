/* Helpers every page script shares: the #strings catalogue, formatting, refusal text and
 * text-only DOM building (data is never put in the page as HTML). Plain ES2017, no build step. */
(function () {
  "use strict";

  var node = document.getElementById("strings");
  var S = node ? JSON.parse(node.textContent) : {};

  function $(id) { return document.getElementById(id); }

  function fmt(key, values) {
    var text = S[key] !== undefined ? S[key] : key;
    return text.replace(/\{(\w+)\}/g, function (m, name) {
      return values && values[name] !== undefined && values[name] !== null ? String(values[name]) : m;
    });
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

  window.QuizPage = { S: S, $: $, fmt: fmt, refusalText: refusalText, el: el, setText: setText };
})();
