/* countnight: click a column heading of a [data-sortable] table to sort it (results.html).
   Without JavaScript the table stays in its printed order. Cells may carry data-sort, the value to sort by;
   headings with data-sort-type="number" sort numerically, largest first on the first click. */
"use strict";
(function () {
  var collator = new Intl.Collator("en-GB", { numeric: true, sensitivity: "base" });

  function value(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (!numeric) return raw;
    var n = raw === "" ? NaN : Number(raw);
    return n;
  }

  function sortBy(table, heading, index) {
    var numeric = heading.getAttribute("data-sort-type") === "number";
    var current = heading.getAttribute("aria-sort");
    var ascending = current ? current !== "ascending" : !numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: value(row, index, numeric), i: i };
    });
    rows.sort(function (a, b) {
      var order;
      if (numeric) {
        var aNaN = isNaN(a.key), bNaN = isNaN(b.key);
        if (aNaN || bNaN) return aNaN === bNaN ? a.i - b.i : aNaN ? 1 : -1; // blanks last, either way
        order = a.key - b.key;
      } else {
        order = collator.compare(a.key, b.key);
      }
      return (ascending ? order : -order) || a.i - b.i;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var status = table.querySelector("[data-sort-status]");
    if (status) status.textContent = ", sorted by " + heading.textContent.trim() + (ascending ? ", ascending" : ", descending");
  }

  function enhance(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (heading.firstChild) button.appendChild(heading.firstChild);
      var arrow = document.createElement("span");
      arrow.className = "sort-arrow";
      arrow.setAttribute("aria-hidden", "true"); // aria-sort says it; the arrow is for the eye
      button.appendChild(arrow);
      heading.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, heading, index); });
    });
    table.classList.add("is-sortable");
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
