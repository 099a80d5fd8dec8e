/* Leitstand charts: draws uPlot charts from the back office's monitoring JSON.
 *
 * Every chart container carries data-url (the JSON endpoint) and data-chart
 * ("check" or "host"). The page shows the same figures as a table, so the
 * charts are aria-hidden and nothing is lost without JavaScript.
 */
(function () {
  "use strict";

  var COLORS = ["#0b5cad", "#b00020", "#1a7f37", "#8a5300", "#6f42c1", "#00796b", "#c2185b", "#455a64"];
  var HEIGHT = 260;
  var charts = [];

  function widthOf(el) {
    return Math.max(320, el.clientWidth || 640);
  }

  function say(el, text) {
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    el.replaceChildren(p);
  }

  // The x scale spans the whole requested range, so a check that has only run
  // for an hour does not look as if it had a full day of history.
  function timeScale(data) {
    return { time: true, auto: false, range: [data.start, data.end] };
  }

  function checkChart(el, data) {
    var d = el.dataset;
    var series = [
      {},
      { label: d.labelLatency, stroke: COLORS[0], width: 1.5, scale: "ms" },
      { label: d.labelOk, stroke: COLORS[2], width: 1, scale: "pct" }
    ];
    var columns = [data.t, data.latency_ms, data.ok_percent];
    // Raw results have one latency each; rollups also have a highest value.
    if (data.source !== "raw") {
      series.push({ label: d.labelLatencyMax, stroke: COLORS[3], width: 1, dash: [4, 4], scale: "ms" });
      columns.push(data.latency_max_ms);
    }
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      scales: { x: timeScale(data), ms: { auto: true }, pct: { auto: false, range: [0, 100] } },
      series: series,
      axes: [
        {},
        { scale: "ms", label: "ms" },
        { scale: "pct", side: 1, label: "%", grid: { show: false } }
      ]
    };
    el.replaceChildren();
    charts.push([el, new uPlot(opts, columns, el)]);
  }

  function hostCharts(el, data) {
    el.replaceChildren();
    data.charts.forEach(function (chart) {
      var box = document.createElement("div");
      box.className = "chart";
      var title = document.createElement("p");
      title.className = "chart-title";
      title.textContent = chart.title;
      el.appendChild(title);
      el.appendChild(box);
      var series = [{}];
      var columns = [data.t];
      chart.series.forEach(function (name, i) {
        series.push({ label: data.labels[name], stroke: COLORS[i % COLORS.length], width: 1.5, scale: "y" });
        columns.push(data.series[name]);
      });
      var y = chart.unit === "%" ? { auto: false, range: [0, 100] } : { auto: true };
      var opts = {
        width: widthOf(box),
        height: HEIGHT,
        scales: { x: timeScale(data), y: y },
        series: series,
        axes: [{}, { scale: "y", label: chart.unit }]
      };
      charts.push([box, new uPlot(opts, columns, box)]);
    });
  }

  function load(el) {
    fetch(el.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data.t.length) return say(el, el.dataset.empty);
        if (el.dataset.chart === "check") checkChart(el, data);
        else hostCharts(el, data);
      })
      .catch(function () {
        say(el, el.dataset.error);
      });
  }

  function resize() {
    charts.forEach(function (pair) {
      pair[1].setSize({ width: widthOf(pair[0]), height: HEIGHT });
    });
  }

  function start() {
    if (typeof uPlot === "undefined") return; // vendor files not built: tables only
    document.querySelectorAll("[data-chart][data-url]").forEach(load);
    var pending;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(resize, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
