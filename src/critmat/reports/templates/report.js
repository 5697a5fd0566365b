/* critmat report: draw the embedded figures lazily, sortable tables, print support. */
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("figures").textContent);
  var config = window.critmat.plotConfig; /* from shared.js, inlined before this script */
  var drawn = new WeakSet();

  function draw(el) {
    if (drawn.has(el)) return;
    drawn.add(el);
    var fig = figures[el.getAttribute("data-fig")];
    el.classList.remove("loading");
    if (!fig || typeof Plotly === "undefined") {
      el.textContent = "chart unavailable";
      return;
    }
    try {
      Plotly.newPlot(el, fig.data, fig.layout, config);
    } catch (err) {
      el.textContent = "chart could not be drawn: " + err;
      if (window.console) console.error(err);
    }
  }

  var charts = Array.prototype.slice.call(document.querySelectorAll(".chart[data-fig]"));
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          draw(entry.target);
        }
      });
    }, { rootMargin: "800px 0px" });
    charts.forEach(function (el) { observer.observe(el); });
  } else {
    charts.forEach(draw);
  }
  window.critmatDrawAll = function () { charts.forEach(draw); };
  window.addEventListener("beforeprint", function () {
    charts.forEach(draw);
    charts.forEach(function (el) { if (el.data) Plotly.Plots.resize(el); });
  });

  /* sortable tables: click a header; cells sort by data-v (numbers) or their text */
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      th.setAttribute("title", "sort");
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        window.critmat.sortRows(table.tBodies[0], index, asc);
      });
    });
  });
})();
