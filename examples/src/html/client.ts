/**
 * The page's script, as text (no external code): draws the lanes on a canvas, only what is
 * visible, aggregating sub-pixel spans; zoom with the wheel or +/-, pan by dragging or with the
 * arrow keys, pick a range on the overview strip; hover shows a span's or arrow's details.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById("smpcall-data").textContent);
  var T = data.timeline, S = T.spans, A = T.arrows, V = T.saved, STR = T.strings;
  var KIND = ["irqs-off", "irq", "callback", "spin"];
  var COLOR = { "irqs-off": "rgba(120,120,120,0.25)", irq: "#4a7fd6", callback: "#2e9e5b", spin: "#e08a1e" };
  var canvas = document.getElementById("timeline"), ctx = canvas.getContext("2d");
  var overview = document.getElementById("overview"), octx = overview.getContext("2d");
  var tip = document.getElementById("tip");
  var LANE = 22, LEFT = 70, TOP = 18;
  var t0 = T.startNs, t1 = Math.max(T.endNs, T.startNs + 1);
  if (T.deadlock) t1 += Math.max(50, (t1 - t0) * 0.25); // room after the stall for the marker
  var view = { a: t0, b: t1 }, scrollLane = 0;
  var byLane = [];
  for (var l = 0; l < T.cpus; l++) byLane.push([]);
  for (var i = 0; i < S.lane.length; i++) byLane[S.lane[i]].push(i);
  byLane.forEach(function (list) { list.sort(function (x, y) { return S.start[x] - S.start[y]; }); });
  var cyc = {}; (T.deadlock ? T.deadlock.cycle : []).forEach(function (c) { cyc[c] = true; });
  function lanesVisible() { return Math.max(1, Math.floor((canvas.height - TOP) / LANE)); }
  function x(t) { return LEFT + (t - view.a) / (view.b - view.a) * (canvas.width - LEFT - 8); }
  function tAt(px) { return view.a + (px - LEFT) / (canvas.width - LEFT - 8) * (view.b - view.a); }
  function laneY(l) { return TOP + (l - scrollLane) * LANE; }
  function hatch(color) {
    var p = document.createElement("canvas"); p.width = 6; p.height = 6;
    var c = p.getContext("2d"); c.strokeStyle = color; c.lineWidth = 2;
    c.beginPath(); c.moveTo(0, 6); c.lineTo(6, 0); c.stroke();
    return ctx.createPattern(p, "repeat");
  }
  var spinFill = null;
  function draw() {
    if (canvas.width !== canvas.clientWidth) canvas.width = canvas.clientWidth; // resizing clears and reallocates: only when needed
    if (canvas.height !== canvas.clientHeight) canvas.height = canvas.clientHeight;
    spinFill = spinFill || hatch(COLOR.spin);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = "11px sans-serif"; ctx.textBaseline = "middle";
    var n = lanesVisible(), last = Math.min(T.cpus, scrollLane + n);
    for (var l = scrollLane; l < last; l++) {
      var y = laneY(l);
      ctx.fillStyle = l % 2 ? "#fafafa" : "#f0f0f0"; ctx.fillRect(LEFT, y, canvas.width - LEFT, LANE - 2);
      ctx.fillStyle = cyc[l] ? "#c0392b" : "#333"; ctx.fillText("CPU " + l, 6, y + LANE / 2);
      var list = byLane[l], lo = 0, hi = list.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (S.end[list[mid]] < view.a) lo = mid + 1; else hi = mid; }
      var busyPx = -1;
      for (var k = Math.max(0, lo - 64); k < list.length; k++) {
        var s = list[k]; if (S.start[s] > view.b) break; if (S.end[s] < view.a) continue;
        var xa = Math.max(LEFT, x(S.start[s])), xb = Math.min(canvas.width, x(S.end[s])), kind = KIND[S.kind[s]];
        var h = kind === "irqs-off" ? LANE - 2 : kind === "irq" ? LANE - 6 : LANE - 10, yy = y + (LANE - 2 - h) / 2;
        if (xb - xa < 1) { var px = Math.floor(xa); if (px === busyPx) continue; busyPx = px; xb = xa + 1; }
        ctx.fillStyle = kind === "spin" ? spinFill : COLOR[kind]; ctx.fillRect(xa, yy, xb - xa, h);
        if (kind === "callback" && xb - xa > 60) { ctx.fillStyle = "#fff"; ctx.fillText(STR[S.label[s]].split(" ")[0], xa + 3, y + LANE / 2); }
      }
    }
    ctx.lineWidth = 1;
    for (var a = 0; a < A.from.length; a++) {
      if (A.deliver[a] < view.a || A.send[a] > view.b) continue;
      if (A.from[a] < scrollLane || A.from[a] >= last || A.to[a] < scrollLane || A.to[a] >= last) continue;
      ctx.strokeStyle = "rgba(128,60,200,0.7)"; ctx.beginPath();
      ctx.moveTo(x(A.send[a]), laneY(A.from[a]) + LANE / 2); ctx.lineTo(x(A.deliver[a]), laneY(A.to[a]) + LANE / 2); ctx.stroke();
    }
    for (var v = 0; v < V.from.length; v++) {
      if (V.t[v] < view.a || V.t[v] > view.b || V.from[v] < scrollLane || V.from[v] >= last) continue;
      var vx = x(V.t[v]), vy = laneY(V.from[v]) + 4;
      ctx.fillStyle = "#d35400"; ctx.beginPath(); ctx.moveTo(vx, vy - 4); ctx.lineTo(vx + 4, vy); ctx.lineTo(vx, vy + 4); ctx.lineTo(vx - 4, vy); ctx.fill();
    }
    if (T.deadlock) {
      var dx = x(T.deadlock.stalledAt);
      ctx.strokeStyle = "#c0392b"; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(dx, 0); ctx.lineTo(dx, canvas.height); ctx.stroke();
      ctx.fillStyle = "#c0392b"; ctx.fillText("no CPU can move", dx + 4, 8);
      T.deadlock.waits.forEach(function (w) {
        if (w.holder < 0) return;
        var ya = laneY(w.cpu) + LANE / 2, yb = laneY(w.holder) + LANE / 2;
        ctx.strokeStyle = cyc[w.cpu] ? "#c0392b" : "#e67e22"; ctx.beginPath(); ctx.moveTo(dx - 12, ya); ctx.quadraticCurveTo(dx - 40, (ya + yb) / 2, dx - 12, yb); ctx.stroke();
        ctx.beginPath(); ctx.moveTo(dx - 12, yb); ctx.lineTo(dx - 18, yb - 4); ctx.lineTo(dx - 18, yb + 4); ctx.fill();
      });
    }
    drawOverview();
    document.getElementById("range").textContent = "showing " + Math.round(view.a) + " .. " + Math.round(view.b) + " ns, CPUs " + scrollLane + ".." + (last - 1);
  }
  var bins = null, binsMax = 1; // callbacks per overview pixel: computed once per strip width
  function drawOverview() {
    if (overview.width !== overview.clientWidth) overview.width = overview.clientWidth;
    if (overview.height !== overview.clientHeight) overview.height = overview.clientHeight;
    var w = overview.width;
    if (bins === null || bins.length !== w) {
      bins = new Float64Array(w); binsMax = 1;
      for (var i = 0; i < S.start.length; i++) if (S.kind[i] === 2) bins[Math.min(w - 1, Math.floor((S.start[i] - t0) / (t1 - t0) * w))]++;
      for (var j = 0; j < w; j++) binsMax = Math.max(binsMax, bins[j]);
    }
    octx.clearRect(0, 0, w, overview.height);
    octx.fillStyle = "#2e9e5b"; for (var b = 0; b < w; b++) { var h = bins[b] / binsMax * overview.height; octx.fillRect(b, overview.height - h, 1, h); }
    octx.fillStyle = "rgba(74,127,214,0.25)";
    octx.fillRect((view.a - t0) / (t1 - t0) * w, 0, Math.max(2, (view.b - view.a) / (t1 - t0) * w), overview.height);
  }
  function zoom(f, at) {
    var c = at === undefined ? (view.a + view.b) / 2 : at;
    var a = c - (c - view.a) * f, b = c + (view.b - c) * f;
    if (b - a < 10) return; view.a = Math.max(t0 - (t1 - t0), a); view.b = Math.min(t1 + (t1 - t0), b); draw();
  }
  function pan(frac) { var d = (view.b - view.a) * frac; view.a += d; view.b += d; draw(); }
  canvas.addEventListener("wheel", function (e) { e.preventDefault(); if (e.shiftKey) scrollLanes(Math.sign(e.deltaY) * 4); else zoom(e.deltaY > 0 ? 1.25 : 0.8, tAt(e.offsetX)); });
  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = { x: e.offsetX, a: view.a, b: view.b }; });
  window.addEventListener("mouseup", function () { drag = null; });
  canvas.addEventListener("mousemove", function (e) {
    if (drag) { var dt = (e.offsetX - drag.x) / (canvas.width - LEFT - 8) * (drag.b - drag.a); view.a = drag.a - dt; view.b = drag.b - dt; draw(); return; }
    showTip(e);
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  window.addEventListener("keydown", function (e) {
    if (e.key === "+" || e.key === "=") zoom(0.8); else if (e.key === "-") zoom(1.25);
    else if (e.key === "ArrowLeft") pan(-0.2); else if (e.key === "ArrowRight") pan(0.2);
    else if (e.key === "ArrowDown") scrollLanes(1); else if (e.key === "ArrowUp") scrollLanes(-1);
    else if (e.key === "0") reset();
  });
  var sel = null;
  overview.addEventListener("mousedown", function (e) { sel = e.offsetX; });
  overview.addEventListener("mouseup", function (e) {
    if (sel === null) return; var w = overview.width, a = Math.min(sel, e.offsetX), b = Math.max(sel, e.offsetX); sel = null;
    if (b - a < 3) { var c = t0 + a / w * (t1 - t0), half = (view.b - view.a) / 2; view.a = c - half; view.b = c + half; }
    else { view.a = t0 + a / w * (t1 - t0); view.b = t0 + b / w * (t1 - t0); }
    draw();
  });
  function showTip(e) {
    var l = scrollLane + Math.floor((e.offsetY - TOP) / LANE), t = tAt(e.offsetX), best = -1;
    var PRIO = [0, 2, 3, 1]; // hover shows the most specific span: callback > irq > spin > irqs-off
    if (l >= 0 && l < T.cpus) byLane[l].forEach(function (s) { if (S.start[s] <= t && S.end[s] >= t && (best < 0 || PRIO[S.kind[s]] > PRIO[S.kind[best]])) best = s; });
    var text = null;
    if (best >= 0) text = "CPU " + l + ": " + KIND[S.kind[best]] + "\n" + STR[S.label[best]] + "\n" + S.start[best] + " .. " + S.end[best] + " ns (" + (S.end[best] - S.start[best]) + " ns)";
    var ns = (view.b - view.a) / (canvas.width - LEFT - 8) * 4;
    for (var a = 0; a < A.from.length && !text; a++) if (A.to[a] === l && Math.abs(A.deliver[a] - t) < ns) text = "IPI CPU " + A.from[a] + " -> CPU " + A.to[a] + "\nsent " + A.send[a] + " ns, taken " + A.deliver[a] + " ns (latency " + (A.deliver[a] - A.send[a]) + " ns)";
    for (var v = 0; v < V.from.length && !text; v++) if (V.from[v] === l && Math.abs(V.t[v] - t) < ns) text = "queued to CPU " + V.to[v] + " at " + V.t[v] + " ns: no IPI needed (its queue was already non-empty)";
    if (T.deadlock && !text) T.deadlock.waits.forEach(function (w) { if (w.cpu === l && t >= T.deadlock.stalledAt - ns) text = "DEADLOCK: CPU " + w.cpu + " spins on " + w.what; });
    if (!text) { tip.style.display = "none"; return; }
    tip.textContent = text; tip.style.display = "block"; tip.style.left = (e.pageX + 12) + "px"; tip.style.top = (e.pageY + 12) + "px";
  }
  window.addEventListener("resize", draw);
  function scrollLanes(d) { scrollLane = Math.max(0, Math.min(T.cpus - 1, scrollLane + d)); draw(); }
  function reset() { view.a = t0; view.b = t1; scrollLane = 0; draw(); }
  window.smpcallTimeline = { view: view, draw: draw, zoom: zoom, pan: pan, scrollLanes: scrollLanes, reset: reset, spans: S.start.length, arrows: A.from.length, saved: V.from.length, deadlock: !!T.deadlock, drawn: 0 };
  draw();
  window.smpcallTimeline.drawn = 1;
})();
`;
