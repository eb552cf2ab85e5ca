// The CSI chart of the survey report: runs after the deferred Chart.js has loaded; the figures come from the
// json_script block "csi-data" of the page.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const source = document.getElementById("csi-data");
  const canvas = document.getElementById("csi-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {labels: data.labels, datasets: [{label: data.label, data: data.values, spanGaps: true, tension: 0.2}]},
    options: {
      scales: {y: {suggestedMin: 0, max: 100}},
      plugins: {tooltip: {callbacks: {afterLabel: function (item) { return "n = " + data.answered[item.dataIndex]; }}}}
    }
  });
});
