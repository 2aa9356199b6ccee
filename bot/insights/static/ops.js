// The /ops dashboard: fetches /ops/data for the chosen period and channel and draws it (uPlot for the charts).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { charts: {}, summary: null, loads: 0 };
  window.kefuOps = state;

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function table(id, head, rows) {
    const el = $(id);
    el.replaceChildren();
    const tr = document.createElement("tr");
    head.forEach((h) => { const th = document.createElement("th"); th.textContent = h; tr.appendChild(th); });
    el.appendChild(tr);
    rows.forEach((cells) => {
      const row = document.createElement("tr");
      cells.forEach((c) => (Array.isArray(c) ? cell(row, c[0], c[1]) : cell(row, c)));
      el.appendChild(row);
    });
  }

  const minutes = (s) => (s === null || s === undefined ? null : (s / 60).toFixed(1));
  const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");

  function chart(id, opts, data) {
    if (state.charts[id]) state.charts[id].destroy();
    const el = $(id);
    const width = Math.max(320, el.clientWidth || 480);
    state.charts[id] = new uPlot(Object.assign({ width: width, height: 220 }, opts), data, el);
  }

  function draw(s) {
    const t = s.totals;
    const cards = $("cards");
    cards.replaceChildren();
    [["conversations", t.conversations], ["messages", t.turns], ["helpful", t.up], ["not helpful", t.down],
     ["voice", pct(s.media.voice_share)], ["photo", pct(s.media.photo_share)],
     ["open tickets", s.tickets.open], ["longest wait (min)", minutes(s.tickets.waiting_s.max)]].forEach(([label, value]) => {
      const div = document.createElement("div");
      div.className = "card";
      const b = document.createElement("b");
      b.textContent = value === null ? "–" : String(value);
      div.append(b, label);
      cards.appendChild(div);
    });
    const xs = s.timeline.map((p) => p.at);
    chart("timeline", {
      series: [{}, { label: "messages", stroke: "#3b82f6", width: 2 }, { label: "conversations", stroke: "#f59e0b", width: 2 }],
    }, [xs, s.timeline.map((p) => p.turns), s.timeline.map((p) => p.conversations)]);
    const names = s.intents.map((i) => i.intent);
    chart("intents", {
      scales: { x: { time: false, range: () => [-0.5, Math.max(names.length, 1) - 0.5] },
                y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [{ splits: () => names.map((_, i) => i), values: (u, ticks) => ticks.map((i) => names[i] || "") }, {}],
      series: [{}, { label: "messages", fill: "#3b82f680", stroke: "#3b82f6",
                     paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }],
    }, [names.map((_, i) => i), s.intents.map((i) => i.turns)]);
    table("intent-table", ["intent", "messages", "share", "helpful", "not helpful", "helpful share"],
      s.intents.map((i) => [i.intent, [i.turns, "n"], [pct(i.share), "n"], [i.up, "n"], [i.down, "n"], [pct(i.helpful), "n"]]));
    table("moves", ["move", "messages", "share", "why"],
      s.moves.map((m) => [m.move, [m.turns, "n"], [pct(m.share), "n"],
        [m.why.slice(0, 4).map((w) => `${w.why} (${w.turns})`).join("; "), "why"]]));
    $("unanswered-note").textContent =
      `${s.unanswered.sampled} unanswered messages (latest, grouped ${s.unanswered.grouping === "encoder" ? "by meaning" : "by wording"})`;
    table("unanswered", ["question", "times", "other wordings"],
      s.unanswered.groups.slice(0, 30).map((g) => [g.question, [g.count, "n"], [g.examples.join(" · "), "why"]]));
    table("latency", ["stage", "turns", "p50", "p95"],
      s.latency_ms.map((l) => [l.stage, [l.turns, "n"], [l.p50, "n"], [l.p95, "n"]]));
    table("tickets", ["open", "taken", "mean wait (min)", "longest wait (min)"],
      [[[s.tickets.open, "n"], [s.tickets.taken, "n"], [minutes(s.tickets.waiting_s.mean), "n"],
        [minutes(s.tickets.waiting_s.max), "n"]]]);
  }

  function channels(list, chosen) {
    const select = $("channel");
    const keep = chosen || select.value;
    select.replaceChildren(new Option("all", ""));
    list.forEach((c) => select.appendChild(new Option(c, c)));
    select.value = list.includes(keep) ? keep : "";
  }

  async function load() {
    const query = new URLSearchParams({ period: $("period").value });
    if ($("channel").value) query.set("channel", $("channel").value);
    history.replaceState(null, "", "/ops?" + query);
    $("todo").href = "/ops/todo.csv?" + query;
    const response = await fetch("/ops/data?" + query, { credentials: "same-origin" });
    if (!response.ok) {
      $("status").textContent = `could not load the figures: HTTP ${response.status}`;
      return;
    }
    const summary = await response.json();
    $("status").textContent = "";
    channels(summary.channels, summary.period.channel);
    draw(summary);
    state.summary = summary;
    state.loads += 1;
  }

  const params = new URLSearchParams(location.search);
  $("period").value = params.get("period") || document.body.dataset.defaultPeriod || "7d";
  if (!$("period").value) $("period").value = "7d";
  if (params.get("channel")) channels([params.get("channel")], params.get("channel"));
  $("period").addEventListener("change", load);
  $("channel").addEventListener("change", load);
  load();
})();
