// tell's viewer: plays a run's clip (preview.jpgs) beside its AU and
// expression-probability curves (frames.csv) and its spotted expressions
// (events.json). A cursor follows the frame shown; a click on a curve seeks
// to that time, a click on an event band to the event's onset; the card
// shows the expression the shown frame is in. Used by `tell view RUN` and by
// tell serve's job page: window.tellViewer.mount(element, {base, fetch}).
"use strict";

(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  // The report's colours: AU curves (colour-blind safe, ΔE ≥ 24) and the
  // appearance classes (Okabe-Ito; grey for neutral).
  const PALETTE = ["#000000", "#332288", "#E69F00", "#56B4E9", "#CC3311", "#EE6677", "#AA4499"];
  const EXPR_PALETTE = ["#D55E00", "#009E73", "#CC79A7", "#E69F00", "#0072B2", "#56B4E9", "#999999"];
  const EXPR = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"];
  const W = 1000, LEFT = 46, RIGHT = 88;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  // parseFrames reads frames.csv (OpenFace's ", " separator, or ","):
  // per face, its rows in frame order; the clip's frames in order.
  function parseFrames(text) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
    const head = lines[0].split(",").map((s) => s.trim());
    const col = (n) => head.indexOf(n);
    const cFrame = col("frame"), cFace = col("face_id"), cTime = col("timestamp"), cOK = col("success");
    const aus = [];
    head.forEach((h, i) => {
      const m = /^AU(\d\d)_r$/.exec(h);
      if (m) aus.push({ au: Number(m[1]), col: i });
    });
    aus.sort((a, b) => a.au - b.au);
    const expr = EXPR.filter((e) => col(e) >= 0).map((e) => ({ name: e, col: col(e) }));
    const frames = []; // {frame, t}
    const posOf = new Map(); // frame number → position
    const faces = new Map(); // face id → {id, rows: [{pos, ok, au[], p[]}]}
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].split(",");
      const n = Number(c[cFrame]);
      let pos = posOf.get(n);
      if (pos === undefined) {
        pos = frames.length;
        posOf.set(n, pos);
        frames.push({ frame: n, t: cTime >= 0 ? Number(c[cTime]) : pos });
      }
      const id = cFace >= 0 ? Number(c[cFace]) : 0;
      if (!faces.has(id)) faces.set(id, { id, rows: [] });
      const ok = cOK < 0 || Number(c[cOK]) >= 0.5;
      const num = (k) => {
        const s = (c[k] || "").trim();
        return s === "" ? NaN : Number(s);
      };
      faces.get(id).rows.push({ pos, ok, au: aus.map((a) => (ok ? num(a.col) : NaN)), p: expr.map((e) => (ok ? num(e.col) : NaN)) });
    }
    return { frames, posOf, faces, aus: aus.map((a) => a.au), expr: expr.map((e) => e.name) };
  }

  // parsePreview splits preview.jpgs ("TELLPRV1", then per frame its
  // position, its length and the JPEG) into [{pos, blob}].
  function parsePreview(buf) {
    const out = [];
    const magic = new TextDecoder().decode(new Uint8Array(buf, 0, Math.min(8, buf.byteLength)));
    if (magic !== "TELLPRV1") return out;
    const dv = new DataView(buf);
    let off = 8;
    while (off + 8 <= buf.byteLength) {
      const pos = dv.getUint32(off, true), n = dv.getUint32(off + 4, true);
      off += 8;
      if (off + n > buf.byteLength) break;
      out.push({ pos, blob: new Blob([new Uint8Array(buf, off, n)], { type: "image/jpeg" }) });
      off += n;
    }
    return out;
  }

  function niceStep(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }
  function trim(v) {
    return String(Number(v.toFixed(3)));
  }

  async function mount(root, opts) {
    const base = opts.base || "";
    const get = opts.fetch || ((u) => fetch(u));
    root.classList.add("tv");
    root.textContent = "Loading the clip…";
    let events, table, previews = [];
    try {
      const [ev, fr] = await Promise.all([get(base + "events.json"), get(base + "frames.csv")]);
      if (!ev.ok || !fr.ok) throw new Error("events.json " + ev.status + ", frames.csv " + fr.status);
      events = await ev.json();
      table = parseFrames(await fr.text());
      const pr = await get(base + "preview.jpgs");
      if (pr.ok) previews = parsePreview(await pr.arrayBuffer());
    } catch (e) {
      root.textContent = "The viewer could not load this run: " + e.message;
      root.classList.add("tv-error");
      return null;
    }
    const v = new View(root, events, table, previews);
    let start = 0;
    if (opts.frame !== undefined && table.posOf.has(Number(opts.frame))) start = table.posOf.get(Number(opts.frame));
    await v.seek(start);
    root.dataset.ready = "1";
    return v;
  }

  class View {
    constructor(root, events, table, previews) {
      this.root = root;
      this.events = (events.events || []).slice();
      this.table = table;
      this.previews = previews;
      this.faceIds = Array.from(table.faces.keys()).sort((a, b) => a - b);
      this.face = this.faceIds.length ? this.faceIds[0] : 0;
      this.pos = 0;
      this.playing = false;
      this.speed = 1;
      this.bitmaps = new Map();
      this.drawn = -1;
      this.build();
    }

    n() {
      return this.table.frames.length;
    }
    x(pos) {
      return LEFT + ((W - LEFT - RIGHT) * pos) / Math.max(1, this.n() - 1);
    }
    posAtX(x) {
      const p = Math.round(((x - LEFT) / (W - LEFT - RIGHT)) * Math.max(1, this.n() - 1));
      return Math.max(0, Math.min(this.n() - 1, p));
    }
    // eventPos is an event's onset, apex and offset as positions.
    eventPos(e) {
      const at = (f) => this.table.posOf.get(f);
      return { on: at(e.onset), apex: at(e.apex), off: at(e.offset) };
    }
    faceEvents() {
      return this.events.filter((e) => e.face_id === undefined || e.face_id === this.face);
    }

    build() {
      const r = this.root;
      r.textContent = "";
      r.tabIndex = 0;
      const top = el("div", { class: "tv-top" });
      const player = el("div", { class: "tv-player" });
      this.canvas = el("canvas", { id: "tv-frame", width: "320", height: "240", "aria-label": "the frame shown" });
      player.append(this.canvas);
      if (!this.previews.length) player.append(el("p", { class: "tv-note" }, "This run has no preview of its frames (preview.jpgs): the curves and events are shown without the clip."));
      const ctl = el("div", { class: "tv-controls" });
      this.playBtn = el("button", { type: "button", id: "tv-play" }, "▶ play");
      const back = el("button", { type: "button", id: "tv-back", "aria-label": "previous frame" }, "◀");
      const fwd = el("button", { type: "button", id: "tv-fwd", "aria-label": "next frame" }, "▶");
      this.speedSel = el("select", { id: "tv-speed", "aria-label": "speed" });
      for (const s of [1, 0.5, 0.25, 0.1]) this.speedSel.append(el("option", { value: String(s) }, s + "×"));
      this.readout = el("span", { id: "tv-readout", role: "status" });
      ctl.append(back, this.playBtn, fwd, this.speedSel, this.readout);
      if (this.faceIds.length > 1) {
        this.faceSel = el("select", { id: "tv-face", "aria-label": "face" });
        for (const id of this.faceIds) this.faceSel.append(el("option", { value: String(id) }, "face " + id));
        this.faceSel.addEventListener("change", () => {
          this.face = Number(this.faceSel.value);
          this.drawPlots();
          this.seek(this.pos);
        });
        ctl.append(this.faceSel);
      }
      player.append(ctl);
      this.card = el("div", { class: "tv-card", id: "tv-card", "aria-live": "polite" });
      top.append(player, this.card);
      this.auSVG = svgEl("svg", { viewBox: `0 0 ${W} 240`, id: "tv-aus", role: "img", "aria-label": "AU intensities; click to seek" });
      this.prSVG = svgEl("svg", { viewBox: `0 0 ${W} 170`, id: "tv-probs", role: "img", "aria-label": "expression probabilities; click to seek" });
      r.append(top, this.auSVG, this.prSVG);
      this.playBtn.addEventListener("click", () => this.toggle());
      back.addEventListener("click", () => this.seek(this.pos - 1));
      fwd.addEventListener("click", () => this.seek(this.pos + 1));
      this.speedSel.addEventListener("change", () => (this.speed = Number(this.speedSel.value)));
      r.addEventListener("keydown", (ev) => {
        if (ev.key === " ") this.toggle();
        else if (ev.key === "ArrowRight") this.seek(this.pos + 1);
        else if (ev.key === "ArrowLeft") this.seek(this.pos - 1);
        else return;
        ev.preventDefault();
      });
      for (const svg of [this.auSVG, this.prSVG]) {
        svg.addEventListener("click", (ev) => {
          const p = svg.createSVGPoint();
          p.x = ev.clientX;
          p.y = ev.clientY;
          const q = p.matrixTransform(svg.getScreenCTM().inverse());
          this.pause();
          this.seek(this.posAtX(q.x));
        });
      }
      this.drawPlots();
    }

    // drawPlots draws both plots for the selected face: AU curves (the
    // events' AUs, then the strongest, at most seven) on an axis magnified
    // when they stay small, the appearance probabilities, event bands and
    // the cursor, on one time axis.
    drawPlots() {
      const face = this.table.faces.get(this.face) || { rows: [] };
      const evs = this.faceEvents();
      const inEvent = new Set();
      for (const e of evs) for (const a of e.aus || []) inEvent.add(a.au);
      const peaks = this.table.aus.map((au, k) => {
        let m = 0;
        for (const row of face.rows) if (row.au[k] > m) m = row.au[k];
        return { au, k, peak: m, event: inEvent.has(au) };
      });
      let curves = peaks.filter((c) => c.peak >= 0.45 || (c.event && c.peak > 0));
      curves.sort((a, b) => (a.event !== b.event ? (a.event ? -1 : 1) : b.peak - a.peak));
      curves = curves.slice(0, PALETTE.length);
      let top = 5;
      const peak = Math.max(0, ...curves.map((c) => c.peak));
      for (const s of [0.25, 0.5, 1, 2]) {
        if (peak <= s * 0.95) {
          top = s;
          break;
        }
      }
      const rows = new Array(this.n());
      for (const row of face.rows) rows[row.pos] = row;
      this.plot(this.auSVG, 240, 10, 200, top, curves.map((c, i) => ({ name: "AU" + String(c.au).padStart(2, "0"), colour: PALETTE[i], value: (row) => row.au[c.k] })), rows, top < 5 ? "AU intensity, magnified (0–" + top + " of 5)" : "AU intensity (0–5)", evs);
      const ex = this.table.expr.map((name, k) => ({ name, colour: EXPR_PALETTE[EXPR.indexOf(name)], value: (row) => row.p[k] }));
      this.prSVG.style.display = ex.length ? "" : "none";
      if (ex.length) this.plot(this.prSVG, 170, 10, 130, 1, ex, rows, "probability", evs);
    }

    plot(svg, H, top, ph, ymax, series, rows, axis, evs) {
      svg.textContent = "";
      const y = (v) => top + ph * (1 - Math.min(v, ymax) / ymax);
      svg.append(svgEl("rect", { x: LEFT, y: top, width: W - LEFT - RIGHT, height: ph, fill: "#fafafa", stroke: "#ccc" }));
      for (let i = 0; i <= 4; i++) {
        const v = (ymax * i) / 4;
        svg.append(svgEl("line", { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), stroke: "#e4e4e4" }));
        const t = svgEl("text", { x: LEFT - 6, y: y(v) + 4, "font-size": 11, "text-anchor": "end", fill: "#555" });
        t.textContent = trim(v);
        svg.append(t);
      }
      const label = svgEl("text", { x: 12, y: top + ph / 2, "font-size": 11, fill: "#555", transform: `rotate(-90 12 ${top + ph / 2})`, "text-anchor": "middle" });
      label.textContent = axis;
      svg.append(label);
      const fr = this.table.frames;
      if (fr.length) {
        const dur = fr[fr.length - 1].t - fr[0].t;
        const step = niceStep(dur / 8);
        for (let t = 0; t <= dur + 1e-9; t += step) {
          // The position of the first frame at or after t.
          let p = fr.findIndex((f) => f.t - fr[0].t >= t - 1e-9);
          if (p < 0) p = fr.length - 1;
          svg.append(svgEl("line", { x1: this.x(p), x2: this.x(p), y1: top + ph, y2: top + ph + 4, stroke: "#999" }));
          const tt = svgEl("text", { x: this.x(p), y: top + ph + 16, "font-size": 11, "text-anchor": "middle", fill: "#555" });
          tt.textContent = trim(t);
          svg.append(tt);
        }
        const cap = svgEl("text", { x: LEFT + (W - LEFT - RIGHT) / 2, y: H - 4, "font-size": 11, "text-anchor": "middle", fill: "#555" });
        cap.textContent = "time (s)";
        svg.append(cap);
      }
      for (const e of evs) {
        const p = this.eventPos(e);
        if (p.on === undefined || p.off === undefined) continue;
        const band = svgEl("rect", { x: this.x(p.on), y: top, width: Math.max(3, this.x(p.off) - this.x(p.on)), height: ph, fill: e.kind === "macro" ? "#b9d3ea" : "#f3d27a", opacity: 0.55, class: "tv-band", "data-event": e.id });
        const title = svgEl("title");
        title.textContent = "#" + e.id + " " + (e.label || "") + ": frames " + e.onset + "–" + e.offset + "; click to go to its onset";
        band.append(title);
        band.addEventListener("click", (ev) => {
          ev.stopPropagation();
          this.pause();
          this.seek(p.on);
        });
        svg.append(band);
      }
      const labels = [];
      series.forEach((s) => {
        let pts = [], lastY = null;
        const flush = () => {
          if (pts.length) svg.append(svgEl("polyline", { fill: "none", stroke: s.colour, "stroke-width": 1.6, points: pts.join(" "), "data-series": s.name }));
          pts = [];
        };
        for (let p = 0; p < rows.length; p++) {
          const row = rows[p];
          const v = row ? s.value(row) : NaN;
          if (!(v >= 0)) {
            flush();
            continue;
          }
          lastY = y(v);
          pts.push(this.x(p).toFixed(1) + "," + lastY.toFixed(1));
        }
        flush();
        if (lastY !== null) labels.push({ y: lastY, text: s.name, colour: s.colour });
      });
      // Names at the line ends, nudged apart and kept inside the plot.
      labels.sort((a, b) => a.y - b.y);
      for (let i = 0; i < labels.length; i++) {
        labels[i].y = Math.max(labels[i].y, top + 8, i ? labels[i - 1].y + 13 : 0);
      }
      for (let i = labels.length - 1; i >= 0; i--) {
        labels[i].y = Math.min(labels[i].y, i < labels.length - 1 ? labels[i + 1].y - 13 : top + ph + 4);
      }
      for (const l of labels) {
        const t = svgEl("text", { x: W - RIGHT + 6, y: l.y, "font-size": 12, "font-weight": 600, fill: l.colour, "dominant-baseline": "middle" });
        t.textContent = l.text;
        svg.append(t);
      }
      svg.append(svgEl("line", { class: "tv-cursor", x1: this.x(this.pos), x2: this.x(this.pos), y1: top - 4, y2: top + ph + 4, stroke: "#C00", "stroke-width": 2 }));
    }

    // seek shows frame position pos: the frame (the last preview at or
    // before it), the cursor, the readout and the event card.
    async seek(pos) {
      if (!this.n()) return;
      pos = Math.max(0, Math.min(this.n() - 1, Math.round(pos)));
      this.pos = pos;
      const f = this.table.frames[pos];
      for (const c of this.root.querySelectorAll(".tv-cursor")) {
        c.setAttribute("x1", this.x(pos));
        c.setAttribute("x2", this.x(pos));
        c.dataset.frame = f.frame;
      }
      this.readout.textContent = "frame " + f.frame + " · " + (f.t - this.table.frames[0].t).toFixed(3) + " s";
      this.root.dataset.frame = f.frame;
      this.showCard(pos);
      await this.draw(pos);
    }

    async draw(pos) {
      const pv = this.previews;
      if (!pv.length) return;
      let lo = 0, hi = pv.length - 1, k = 0;
      while (lo <= hi) {
        const m = (lo + hi) >> 1;
        if (pv[m].pos <= pos) {
          k = m;
          lo = m + 1;
        } else hi = m - 1;
      }
      if (k === this.drawn) return;
      let bmp = this.bitmaps.get(k);
      if (!bmp) {
        bmp = await createImageBitmap(pv[k].blob);
        this.bitmaps.set(k, bmp);
        if (this.bitmaps.size > 96) {
          const old = this.bitmaps.keys().next().value;
          this.bitmaps.get(old).close();
          this.bitmaps.delete(old);
        }
      }
      if (this.pos !== pos) return; // a later seek won
      if (this.canvas.width !== bmp.width || this.canvas.height !== bmp.height) {
        this.canvas.width = bmp.width;
        this.canvas.height = bmp.height;
      }
      this.canvas.getContext("2d").drawImage(bmp, 0, 0);
      this.drawn = k;
      this.canvas.dataset.frame = this.table.frames[pv[k].pos].frame;
    }

    showCard(pos) {
      const card = this.card;
      card.textContent = "";
      const e = this.faceEvents().find((ev) => {
        const p = this.eventPos(ev);
        return p.on !== undefined && p.on <= pos && pos <= p.off;
      });
      if (!e) {
        card.dataset.event = "";
        card.append(el("p", { class: "tv-none" }, "No spotted expression at this frame. Click a band to go to one."));
        return;
      }
      card.dataset.event = e.id;
      card.append(el("h3", {}, "#" + e.id + " · " + (e.label || "unlabelled") + " (" + e.kind + ")" + (e.confidence ? " · " + Math.round(e.confidence * 100) + "%" : "")));
      card.append(el("p", { class: "tv-meta" }, "frames " + e.onset + "–" + e.offset + " (apex " + e.apex + ") · " + e.onset_s + "–" + e.offset_s + " s"));
      if ((e.aus || []).length) {
        const ul = el("ul", { class: "tv-aus" });
        for (const a of e.aus) ul.append(el("li", {}, "AU" + String(a.au).padStart(2, "0") + (a.side ? " (" + a.side + ")" : "") + " " + (a.name || "") + ": " + Number(a.intensity).toFixed(2) + (a.letter ? " (" + a.letter + ")" : "")));
        card.append(ul);
      }
      const emo = Object.entries(e.emotions || {}).sort((a, b) => b[1] - a[1]).slice(0, 3);
      if (emo.length) card.append(el("p", { class: "tv-meta" }, emo.map(([k, p]) => k + " " + Math.round(p * 100) + "%").join(" · ")));
      if (e.cot && e.cot.text) card.append(el("div", { class: "tv-cot" }, e.cot.text.replace(/\*\*/g, "")));
    }

    toggle() {
      if (this.playing) this.pause();
      else this.play();
    }
    pause() {
      this.playing = false;
      this.playBtn.textContent = "▶ play";
    }
    play() {
      if (this.pos >= this.n() - 1) this.pos = 0;
      this.playing = true;
      this.playBtn.textContent = "❚❚ pause";
      const fr = this.table.frames;
      let last = performance.now(), t = fr[this.pos].t;
      const step = async (now) => {
        if (!this.playing) return;
        t += ((now - last) / 1000) * this.speed;
        last = now;
        let p = this.pos;
        while (p + 1 < fr.length && fr[p + 1].t <= t) p++;
        if (p !== this.pos) await this.seek(p);
        if (p >= fr.length - 1) {
          this.pause();
          return;
        }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }
  }

  window.tellViewer = { mount, parseFrames, parsePreview };
})();
