// Live progress on /admin/campaigns/{id}: counts from the server-sent event stream.
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
    if (data.done && !finished) {
      finished = true;
      source.close();
      // The chart, the state and the controls are server-rendered: show their final form.
      window.location.reload();
    }
  };
})();
