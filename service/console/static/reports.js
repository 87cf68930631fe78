// The programme report's charts (templates/reports.html), drawn with the vendored
// Chart.js from the figures the page carries in <script type="application/json"
// id="report-data"> (no inline script: the console's policy allows none). The tables
// beside the charts hold the same figures for readers without a canvas.
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || !window.Chart) { return; }
  var data = JSON.parse(source.textContent);
  var colors = ["#9aa5b1", "#1f6feb", "#f0883e"];
  function draw(id, chart) {
    var canvas = document.getElementById(id);
    if (!canvas || !chart) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.data,
            backgroundColor: colors[i % colors.length],
            maxBarThickness: 56
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.setAttribute("data-drawn", "1");
  }
  draw("chart-targets", data.targets);
  draw("chart-groups", data.groups);
})();
