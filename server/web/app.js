// The page talks to tell's JSON API only: POST /v1/analyze, polling
// GET /v1/jobs/{id}, DELETE /v1/jobs/{id} and POST /v1/cot.
"use strict";

const $ = (id) => document.getElementById(id);

// apiKey is the key typed into the page (kept for this tab only), sent as
// "Authorization: Bearer KEY" when the server has API keys.
function apiKey() {
  return sessionStorage.getItem("tell-key") || "";
}

// api calls the JSON API and throws the server's {"error"} text on failure.
async function api(method, url, body) {
  const init = { method, headers: {} };
  if (apiKey()) init.headers["Authorization"] = "Bearer " + apiKey();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error) || res.status + " " + res.statusText);
  return data;
}

function text(el, s, isError) {
  el.textContent = s;
  el.classList.toggle("error", !!isError);
}

let current = null; // the job being followed: {id, timer}

async function startJob(ev) {
  ev.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  stopFollowing();
  $("job").hidden = false;
  $("job-links").textContent = "";
  $("events").textContent = "";
  $("viewer").textContent = "";
  $("report").hidden = true;
  $("job-progress").value = 0;
  text($("job-state"), "Uploading " + file.name + "…");
  const form = new FormData();
  form.append("file", file);
  try {
    const acc = await api("POST", "/v1/analyze", form);
    follow(acc.id);
  } catch (e) {
    text($("job-state"), "Upload failed: " + e.message, true);
  }
}

// follow shows job id until it ends; the URL's #job=ID lets a reload or a
// shared link come back to it.
function follow(id) {
  stopFollowing();
  $("job").hidden = false;
  current = { id, url: "/v1/jobs/" + encodeURIComponent(id), timer: 0 };
  const fm = /[#&]frame=(-?\d+)/.exec(location.hash);
  history.replaceState(null, "", "#job=" + encodeURIComponent(id) + (fm ? "&frame=" + fm[1] : ""));
  poll();
}

function stopFollowing() {
  if (current && current.timer) clearTimeout(current.timer);
  current = null;
}

async function poll() {
  const job = current;
  if (!job) return;
  let st;
  try {
    st = await api("GET", job.url);
  } catch (e) {
    text($("job-state"), "Job lost: " + e.message, true);
    return;
  }
  if (current !== job) return;
  const p = st.progress;
  const frames = p.total > 0 ? p.frames + " of " + p.total + " frames" : p.frames + " frames";
  if (p.total > 0) $("job-progress").value = p.fraction || 0;
  switch (st.status) {
    case "queued":
    case "running":
      text($("job-state"), st.input + ": " + st.status + ", " + frames);
      if (p.total <= 0) $("job-progress").removeAttribute("value");
      job.timer = setTimeout(poll, 500);
      return;
    case "done":
      $("job-progress").value = 1;
      text($("job-state"), st.input + ": done" + (st.result ? ", " + st.result.frames + " frames, " + st.result.events + " expression(s) spotted" : ""));
      break;
    default:
      text($("job-state"), st.input + ": " + st.status + (st.error ? " — " + st.error : ""), true);
  }
  showOutputs(st);
}

async function showOutputs(st) {
  const links = $("job-links");
  links.textContent = "";
  for (const name of ["report.html", "events.json", "frames.csv"]) {
    if (!st.links[name]) continue;
    const a = document.createElement("a");
    a.href = st.links[name];
    a.textContent = name;
    // A link cannot carry the key: with one, the file is fetched with it
    // and saved.
    if (apiKey()) a.addEventListener("click", (ev) => download(ev, st.links[name], name));
    if (links.childNodes.length) links.append(" · ");
    links.append(a);
  }
  if (st.links["events.json"]) {
    try {
      showEvents(await api("GET", st.links["events.json"]));
    } catch (e) {
      text($("events"), "events.json: " + e.message, true);
    }
  }
  // The viewer plays the clip beside its curves; #job=ID&frame=N opens
  // frame N.
  if (st.links["events.json"] && st.links["frames.csv"] && window.tellViewer) {
    const m = /[#&]frame=(-?\d+)/.exec(location.hash);
    const headers = apiKey() ? { Authorization: "Bearer " + apiKey() } : {};
    window.tellViewer.mount($("viewer"), {
      base: st.links.self + "/",
      fetch: (u) => fetch(u, { headers }),
      frame: m ? Number(m[1]) : undefined,
    });
  }
  // The framed preview needs no key; with keys the report is a download.
  if (st.links["report.html"] && !apiKey()) {
    $("report").src = st.links["report.html"];
    $("report").hidden = false;
  }
}

async function download(ev, url, name) {
  ev.preventDefault();
  try {
    const res = await fetch(url, { headers: { Authorization: "Bearer " + apiKey() } });
    if (!res.ok) throw new Error(res.status + " " + res.statusText);
    const blobURL = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = blobURL;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(blobURL), 60000);
  } catch (e) {
    text($("job-state"), name + ": " + e.message, true);
  }
}

function showEvents(res) {
  const box = $("events");
  box.textContent = "";
  if (!res.events || res.events.length === 0) {
    box.textContent = "No expression spotted.";
    return;
  }
  const table = document.createElement("table");
  const cap = table.createCaption();
  cap.textContent = "Spotted expressions";
  const head = table.createTHead().insertRow();
  for (const h of ["#", "time (s)", "kind", "label", "confidence", "AUs"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const e of res.events) {
    const row = body.insertRow();
    const aus = (e.aus || []).map((a) => (a.side ? a.side[0].toUpperCase() : "") + a.au + (a.letter || "")).join("+");
    for (const v of [e.id, e.onset_s + "–" + e.offset_s, e.kind, e.label, (e.confidence || 0).toFixed(2), aus]) {
      row.insertCell().textContent = String(v);
    }
  }
  box.append(table);
}

async function cancelJob() {
  const job = current;
  if (!job) return;
  stopFollowing();
  try {
    await api("DELETE", job.url);
    history.replaceState(null, "", location.pathname);
    text($("job-state"), "Cancelled and deleted.");
    $("job-links").textContent = "";
    $("events").textContent = "";
    $("viewer").textContent = "";
    $("report").hidden = true;
  } catch (e) {
    text($("job-state"), "Cancel failed: " + e.message, true);
  }
}

async function explain(ev) {
  if (ev) ev.preventDefault();
  const req = { aus: $("aus").value, seed: Number($("seed").value) || 0 };
  if ($("label").value.trim()) req.label = $("label").value.trim();
  text($("cot-state"), "Reasoning…");
  try {
    const c = await api("POST", "/v1/cot", req);
    $("cot-label").textContent = c.conclusion.label;
    $("cot-conf").textContent = c.conclusion.confidence.toFixed(2);
    $("cot-text").textContent = c.text;
    $("cot-out").hidden = false;
    const v = c.verification;
    text($("cot-state"), v && v.flagged ? "The evidence does not support the label " + v.true_label + "." : "Done.", v && v.flagged);
  } catch (e) {
    $("cot-out").hidden = true;
    text($("cot-state"), e.message, true);
  }
}

async function init() {
  $("apikey").value = apiKey();
  const saveKey = (ev) => {
    if (ev) ev.preventDefault();
    sessionStorage.setItem("tell-key", $("apikey").value.trim());
  };
  $("apikey").addEventListener("change", () => saveKey());
  $("key-form").addEventListener("submit", saveKey);
  $("upload-form").addEventListener("submit", startJob);
  $("job-cancel").addEventListener("click", cancelJob);
  $("cot-form").addEventListener("submit", explain);
  try {
    $("version").textContent = (await api("GET", "/v1/version")).version;
  } catch (e) {
    $("version").textContent = "(unreachable: " + e.message + ")";
  }
  // #aus=6+12&label=happiness explains at once: shareable links. Parsed by
  // hand because URLSearchParams would read "+" as a space.
  const h = {};
  for (const kv of location.hash.slice(1).split("&")) {
    const i = kv.indexOf("=");
    try {
      if (i > 0) h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
    } catch (e) {
      // A malformed escape leaves that field empty.
    }
  }
  if (h.job) follow(h.job);
  if (h.aus) {
    $("aus").value = h.aus;
    if (h.label) $("label").value = h.label;
    if (h.seed) $("seed").value = h.seed;
    explain();
  }
}

init();
