// The dashboards' charts: run after the deferred Chart.js has loaded; the charts come from the json_script block
// "dashboard-charts" of the page, each drawn on the canvas with its data-chart key. A click on a bar or a point opens
// the list behind it (the URL the server gave for that bar). A null value is a gap, never joined across.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") return;
  const colours = ["#0d6efd", "#adb5bd", "#fd7e14", "#20c997", "#6f42c1", "#dc3545"];
  JSON.parse(source.textContent).forEach(function (chart) {
    const canvas = document.querySelector('canvas[data-chart="' + chart.key + '"]');
    if (!canvas) return;
    const datasets = chart.series.map(function (series, i) {
      return {
        label: series.label,
        data: series.data,
        urls: series.urls,
        backgroundColor: colours[i % colours.length],
        borderColor: colours[i % colours.length],
        spanGaps: false,
        tension: 0.2
      };
    });
    const valueAxis = chart.horizontal ? "x" : "y";
    const scales = {x: {stacked: chart.stacked}, y: {stacked: chart.stacked}};
    scales[valueAxis].beginAtZero = true;
    if (chart.unit === "%") scales[valueAxis].suggestedMax = 100;
    else scales[valueAxis].ticks = {precision: 0};  // counts are whole: no 0.1 steps on a small period
    new Chart(canvas, {
      type: chart.kind,
      data: {labels: chart.labels, datasets: datasets},
      options: {
        maintainAspectRatio: false,
        indexAxis: chart.horizontal ? "y" : "x",
        spanGaps: false,
        scales: scales,
        plugins: {legend: {display: datasets.length > 1}},
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) return;
          const url = datasets[elements[0].datasetIndex].urls[elements[0].index];
          if (url) window.location.assign(url);
        }
      }
    });
  });
});
