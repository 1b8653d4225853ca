// 数据导入: the progress bar follows GET /api/v1/imports/{id} until the import ends.
// Without this file the page still shows the progress as of loading, and a refresh link.
document.addEventListener("DOMContentLoaded", function () {
  var panel = document.getElementById("import-progress-panel");
  if (!panel) { return; }
  var states = { queued: "排队中", running: "导入中", done: "已完成", failed: "失败" };
  var id = panel.getAttribute("data-import-id");
  var bar = document.getElementById("import-progress");
  var watching = false;
  function show(status) {
    panel.setAttribute("data-state", status.state);
    bar.max = status.rows || 1;
    bar.value = status.state === "done" ? (status.rows || 1) : status.done;
    panel.querySelectorAll("[data-field]").forEach(function (span) {
      var name = span.getAttribute("data-field");
      span.textContent = name === "state" ? states[status.state] : status[name];
    });
    var message = document.getElementById("import-progress-message");
    message.textContent = status.message || "";
    message.hidden = !status.message;
    document.getElementById("import-error-report").hidden = !status.has_errors;
  }
  function poll() {
    fetch("/api/v1/imports/" + id, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        show(status);
        var running = status.state === "queued" || status.state === "running";
        watching = watching || running;
        if (running) {
          window.setTimeout(poll, 500);
        } else if (watching) {
          // Ended while watched: reload once so the history below shows it too.
          window.location.replace("/imports?id=" + id);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  var state = panel.getAttribute("data-state");
  if (state === "queued" || state === "running") { poll(); }
});
