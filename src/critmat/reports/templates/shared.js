/* critmat: what the offline report and the web pages' scripts share — plotly's chart options
   and the order a sortable table's rows take (one copy: the report inlines this file, the web
   serves it as /static/shared.js). */
(function () {
  "use strict";

  /* A cell's sort key: its data-v attribute (else its text), as a number where it is one. */
  function sortKey(cell) {
    if (!cell) return "";
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent.trim();
    var n = parseFloat(v);
    return v !== "" && !isNaN(n) && isFinite(v) ? n : v.toLowerCase();
  }

  /* Reorder the rows of a table body by the cells of column `index`: numbers by value, text
     by its locale order, blank cells last in either direction. */
  function sortRows(body, index, ascending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[index]), y = sortKey(b.cells[index]);
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      if (typeof x === "number" && typeof y === "number") return ascending ? x - y : y - x;
      x = String(x); y = String(y);
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  window.critmat = {
    plotConfig: {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"],
      toImageButtonOptions: { format: "png", scale: 2 }
    },
    sortRows: sortRows
  };
})();
