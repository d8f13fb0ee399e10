// ALTCHA proof of work, solved in the browser: find n with SHA-256(salt + n) == challenge.
// No inline script (CSP); the challenge comes in data- attributes, the answer goes in the
// hidden "altcha" field as the base64 JSON payload the server checks with the altcha package.
"use strict";
(function () {
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  async function solve(box) {
    var d = box.dataset;
    var encoder = new TextEncoder();
    var max = parseInt(d.maxnumber, 10);
    for (var n = 0; n <= max; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(d.salt + n));
      if (hex(digest) === d.challenge) {
        return btoa(JSON.stringify({
          algorithm: d.algorithm, challenge: d.challenge, number: n,
          salt: d.salt, signature: d.signature
        }));
      }
    }
    return null;
  }

  function setUp(box) {
    var form = box.closest("form");
    var field = box.querySelector('input[name="altcha"]');
    var status = box.querySelector('[role="status"]');
    var running = null;
    function start() {
      if (!running) {
        status.textContent = box.dataset.working;
        running = solve(box).then(function (payload) {
          field.value = payload || "";
          status.textContent = payload ? box.dataset.done : box.dataset.failed;
          return payload;
        });
      }
      return running;
    }
    box.querySelector('input[type="checkbox"]').addEventListener("change", function (e) {
      if (e.target.checked) { start(); }
    });
    form.addEventListener("submit", function (e) {
      if (field.value) { return; }
      e.preventDefault();
      start().then(function (payload) { if (payload) { form.submit(); } });
    });
  }

  document.querySelectorAll(".captcha[data-challenge]").forEach(setUp);
})();
