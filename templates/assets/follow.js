/* countnight: finding a seat in a long follow list. Plain JavaScript, no framework.
 *
 * A long list of the constituencies followed (a national night's 650) is not drawn on the live page: its rows
 * wait in a <template data-follow-rows> in the follow panel (partials/follow.html), and a page of 650 drawn rows
 * was most of the index's elements. This adds a search field after the panel and shows the rows whose names
 * hold what the reader types, kept current while live.js refreshes the panel (the field is outside the panel,
 * so a refresh never takes the reader's typing or focus). Without script the panel links to results.html,
 * which has every declared result.
 */
(function () {
  "use strict";

  var box = document.querySelector('[data-panel="follow"]');
  if (!box || !("content" in document.createElement("template")) || !window.MutationObserver) {
    return;
  }
  var MAX = 12; // rows shown at once: the reader types on to narrow them down

  var find = document.createElement("div");
  find.className = "follow__find";
  var label = document.createElement("label");
  label.htmlFor = "follow-q";
  label.textContent = "Find a constituency";
  var input = document.createElement("input");
  input.type = "search";
  input.id = "follow-q";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.setAttribute("aria-describedby", "follow-status");
  var status = document.createElement("p");
  status.id = "follow-status";
  status.className = "follow__status";
  status.setAttribute("aria-live", "polite");
  var list = document.createElement("ul");
  list.className = "follow__list";
  find.append(label, input, status, list);
  box.after(find);

  function fold(text) {
    return text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim();
  }

  function show() {
    var rows = box.querySelector("template[data-follow-rows]");
    find.hidden = !rows; // a short list is drawn in full: nothing to find
    list.textContent = "";
    var asked = fold(input.value);
    if (!rows || !asked) {
      status.textContent = "";
      return;
    }
    var found = Array.prototype.filter.call(rows.content.children, function (row) {
      var name = row.querySelector(".follow__name");
      return name && fold(name.textContent).indexOf(asked) !== -1;
    });
    found.slice(0, MAX).forEach(function (row) {
      list.appendChild(row.cloneNode(true));
    });
    if (!found.length) {
      status.textContent = "No constituency matches.";
    } else if (found.length > MAX) {
      status.textContent = "The first " + MAX + " of " + found.length + " matches: type more to narrow them.";
    } else {
      status.textContent = found.length === 1 ? "1 match." : found.length + " matches.";
    }
  }

  input.addEventListener("input", show);
  new MutationObserver(show).observe(box, { childList: true, subtree: true });
  show();
})();
