// tell view's page: the viewer on the run this server serves under run/.
// #frame=N opens the clip at frame N.
"use strict";
(function () {
  const m = /(?:^#|&)frame=(-?\d+)/.exec(location.hash);
  fetch("run/events.json")
    .then((r) => r.json())
    .then((ev) => (document.getElementById("title").textContent = "tell view: " + (ev.input || "")))
    .catch(() => {});
  window.tellViewer.mount(document.getElementById("viewer"), { base: "run/", frame: m ? Number(m[1]) : undefined });
})();
