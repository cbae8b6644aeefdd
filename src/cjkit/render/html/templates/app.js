// Draw every figure of the page with the embedded plotly.js; mark each chart when it is drawn.
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]};
  var nodes = document.querySelectorAll("script.figure");
  var pending = nodes.length;
  function done() {
    pending -= 1;
    if (pending === 0) { document.body.setAttribute("data-charts-ready", String(nodes.length)); }
  }
  if (pending === 0) { document.body.setAttribute("data-charts-ready", "0"); }
  nodes.forEach(function (node) {
    var target = document.getElementById(node.getAttribute("data-target"));
    var figure = JSON.parse(node.textContent);
    Plotly.newPlot(target, figure.data, figure.layout, config).then(function () {
      target.setAttribute("data-drawn", "true");
      done();
    }, function (err) {
      console.error("chart " + target.id + ": " + err);
      done();
    });
  });
  // Print and narrow windows: redraw charts at their new width.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".chart").forEach(function (c) { Plotly.Plots.resize(c); });
  });
})();
