// Live SMS preview: as an editor types, ask the server how the text will be sent.
// Progressive enhancement only: without JS the preview is shown after saving.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  var target = document.querySelector('meta[name="preview-url"]');
  if (!target) { return; }
  var url = target.getAttribute("content");

  function show(box, data) {
    var summary = box.querySelector('[data-field="summary"]');
    var ucs2 = box.querySelector('[data-field="ucs2"]');
    var normalised = box.querySelector('[data-field="normalised"]');
    var placeholders = box.querySelector('[data-field="placeholders"]');
    if (summary) { summary.textContent = data.summary; }
    if (ucs2) {
      ucs2.hidden = data.forcing_ucs2.length === 0;
      if (!ucs2.hidden) { ucs2.textContent = data.ucs2_label + " " + data.forcing_ucs2.join(" "); }
    }
    if (normalised) { normalised.hidden = !data.normalised; }
    if (placeholders) { placeholders.hidden = !data.has_placeholders; }
    box.setAttribute("data-segments", String(data.segments));
  }

  function watch(area) {
    var box = document.getElementById(area.getAttribute("data-preview"));
    if (!box || !window.fetch) { return; }
    var timer = null;
    var latest = 0;
    function update() {
      var ticket = ++latest;
      fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token},
        body: JSON.stringify({text: area.value})
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && ticket === latest) { show(box, data); } })
        .catch(function () { /* the server-side preview after saving still works */ });
    }
    area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
    if (!box.querySelector('[data-field="summary"]').textContent) { update(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview]"), watch);
})();
