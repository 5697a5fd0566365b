/* critmat web: draw plotly figures (also after HTMX swaps), sortable tables, search box.
   Needs shared.js (plotly's options, the rows' sort order) loaded before it. */
(function () {
  "use strict";
  var config = window.critmat.plotConfig; /* from shared.js, loaded first */

  function drawCharts(root) {
    var scripts = (root || document).querySelectorAll("script.figure[data-target]");
    Array.prototype.forEach.call(scripts, function (script) {
      var el = document.getElementById(script.getAttribute("data-target"));
      if (!el || el.getAttribute("data-drawn")) return;
      el.setAttribute("data-drawn", "1");
      if (typeof Plotly === "undefined") {
        el.textContent = "Chart unavailable: use the table view.";
        return;
      }
      try {
        var fig = JSON.parse(script.textContent);
        Plotly.newPlot(el, fig.data, fig.layout, config);
        var linkScript = document.querySelector('script.figure-links[data-target="' + el.id + '"]');
        if (linkScript) {
          var links = JSON.parse(linkScript.textContent);
          el.classList.add("clickable");
          el.on("plotly_click", function (ev) {
            var p = ev && ev.points && ev.points[0];
            var href = p && (links[p.y] || links[p.x]);
            if (href) window.location.href = href;
          });
        }
      } catch (err) {
        el.textContent = "Chart could not be drawn: use the table view.";
        if (window.console) console.error(err);
      }
    });
  }

  function sortable(root) {
    var tables = (root || document).querySelectorAll("table.sortable:not([data-sort-ready])");
    Array.prototype.forEach.call(tables, function (table) {
      table.setAttribute("data-sort-ready", "1");
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(heads, function (th, index) {
        th.setAttribute("tabindex", "0");
        th.setAttribute("title", "Sort by this column");
        function sort() {
          var asc = th.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          window.critmat.sortRows(table.tBodies[0], index, asc);
        }
        th.addEventListener("click", sort);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
      });
    });
  }

  function redrawOnOpen(root) {
    /* plotly sizes to its container: resize charts when a <details> opens or the window changes */
    Array.prototype.forEach.call((root || document).querySelectorAll("details"), function (d) {
      d.addEventListener("toggle", function () {
        Array.prototype.forEach.call(d.querySelectorAll(".js-plotly-plot"), function (p) { Plotly.Plots.resize(p); });
      });
    });
  }

  function init(root) { drawCharts(root); sortable(root); redrawOnOpen(root); }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.onLoad(init); /* runs for the page and for every swapped fragment */
    } else {
      init(document);
    }
    var input = document.getElementById("q");
    var box = document.getElementById("suggest");
    if (input && box) {
      input.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { box.innerHTML = ""; }
        if (e.key === "ArrowDown") {
          var first = box.querySelector("a");
          if (first) { e.preventDefault(); first.focus(); }
        }
      });
      box.addEventListener("keydown", function (e) {
        var links = Array.prototype.slice.call(box.querySelectorAll("a"));
        var i = links.indexOf(document.activeElement);
        if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
        if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
        if (e.key === "Escape") { box.innerHTML = ""; input.focus(); }
      });
      document.addEventListener("click", function (e) {
        if (!box.contains(e.target) && e.target !== input) box.innerHTML = "";
      });
    }
  });
})();
