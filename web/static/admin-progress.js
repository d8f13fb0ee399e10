// Live progress on /admin/campaigns/{id}: counts from the server-sent event stream, and the
// server-rendered charts fetched again (at most every CHART_EVERY_MS) as messages move.
// The page works without this file (its "Refresh" link reloads it).
(function () {
  "use strict";
  var live = document.getElementById("live");
  // No stream once every message is final (the attribute is then left out).
  if (!live || !live.getAttribute("data-events") || !window.EventSource) {
    return;
  }
  var source = new EventSource(live.getAttribute("data-events"));
  var finished = false;
  var CHART_EVERY_MS = 2000;
  var charts = document.getElementById("charts");
  var chartUrl = charts ? charts.getAttribute("data-chart") : null;
  var chartBusy = false;
  var chartAt = 0;
  function refreshCharts() {
    if (!chartUrl || !window.fetch || chartBusy || Date.now() - chartAt < CHART_EVERY_MS) {
      return;
    }
    chartBusy = true;
    chartAt = Date.now();
    fetch(chartUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          charts.innerHTML = html; // same-origin, server-escaped markup; CSP blocks any script
        }
      })
      .catch(function () {})
      .then(function () {
        chartBusy = false;
      });
  }
  source.onmessage = function (event) {
    var data = JSON.parse(event.data);
    Object.keys(data.counts).forEach(function (name) {
      var node = live.querySelector('[data-count="' + name + '"]');
      if (node) {
        node.textContent = String(data.counts[name]);
      }
    });
    var percent = live.querySelector('[data-field="percent"]');
    if (percent) {
      percent.textContent = String(data.percent);
    }
    var bar = document.getElementById("bar");
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + " %";
    }
    var eta = live.querySelector('[data-field="eta"]');
    if (eta) {
      eta.textContent = data.eta || "\u2014";
    }
    refreshCharts();
    if (data.done && !finished) {
      finished = true;
      source.close();
      // The chart, the state and the controls are server-rendered: show their final form.
      window.location.reload();
    }
  };
})();
