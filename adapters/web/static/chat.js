// kefu web chat: one page, one WebSocket (/ws), JSON frames as described in docs/web.md.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    messages: $("messages"), input: $("input"), send: $("send"), record: $("record"), photo: $("photo"),
    photoLabel: $("photo-label"), human: $("human"), typing: $("typing"), status: $("status"),
    notices: $("notices"), composer: $("composer"),
  };
  const HUMAN_LABEL = "Talk to a human · 转人工";
  const MAX_RECORDING_MS = 60000;
  const CLOSE_REASONS = {
    1001: "server restarting", 1008: "too many messages", 1009: "that message was too large", 1013: "too many connections",
  };
  const state = {
    ws: null, session: sessionStorage.getItem("kefu.session"), epoch: null, lastSeq: null, retry: 0,
    features: { voice: false, photo: false }, limits: { text_chars: 4000, upload_bytes: 20 * 1024 * 1024 },
    humanPayload: "kefu:human", lastUpload: null, recorder: null, typingTimer: null, counter: 0,
    pending: [], inFlight: false, retryTimer: null, shown: new Set(), shownOrder: [],
  };
  const MAX_SHOWN_IDS = 500;
  const MAX_PENDING = 20;
  const MAX_TRIES = 8;

  function connect() {
    const params = new URLSearchParams();
    if (state.session) params.set("session", state.session);
    if (state.epoch && state.lastSeq !== null) params.set("after", `${state.epoch}.${state.lastSeq}`);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws?${params}`);
    state.ws = ws;
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame && typeof frame === "object") handle(frame);
    };
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.inFlight = false;
      setStatus(false, event.reason || CLOSE_REASONS[event.code]);
      const delay = Math.min(10000, 500 * 2 ** state.retry++);
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "hello": return hello(frame);
      case "reply":
        if (typeof frame.seq === "number") {
          if (state.lastSeq !== null && frame.seq <= state.lastSeq) return;
          state.lastSeq = frame.seq;
        }
        if (frame.id && !firstSight(frame.id)) return;
        showTyping(false);
        return addReply(frame);
      case "accepted": return settled(frame.id);
      case "typing": return showTyping(true);
      case "error": return refused(frame);
      case "notice": return addSystem("notice", frame.message);
      default: return undefined;
    }
  }

  function hello(frame) {
    state.session = frame.session;
    sessionStorage.setItem("kefu.session", frame.session);
    if (frame.epoch !== state.epoch) { state.epoch = frame.epoch; state.lastSeq = null; }
    state.features = frame.features || state.features;
    state.limits = frame.limits || state.limits;
    state.humanPayload = frame.human_payload || state.humanPayload;
    state.retry = 0;
    setStatus(true);
    applyFeatures();
    el.send.disabled = false;
    el.human.disabled = false;
    state.inFlight = false;
    pump();  // the message in flight when the connection dropped goes again: the server keeps it once
  }

  // A reply sent again after a server restart keeps its id: show it once.
  function firstSight(id) {
    if (state.shown.has(id)) return false;
    state.shown.add(id);
    state.shownOrder.push(id);
    if (state.shownOrder.length > MAX_SHOWN_IDS) state.shown.delete(state.shownOrder.shift());
    return true;
  }

  // Messages go one at a time, in order: the next leaves once the server has accepted the one before, so a
  // message refused for now (a flood, a busy server) or lost with a connection never falls behind a later one.
  function pump() {
    if (state.inFlight || state.retryTimer !== null || !state.pending.length || !isOpen()) return;
    const head = state.pending[0];
    head.tries += 1;
    state.inFlight = true;
    state.ws.send(head.data);
  }

  function settled(id) {
    if (!state.pending.length || state.pending[0].id !== id) return;
    state.pending.shift();
    state.inFlight = false;
    pump();
  }

  function refused(frame) {
    addSystem("error", frame.message);
    if (!state.inFlight || !state.pending.length) return;
    state.inFlight = false;
    const head = state.pending[0];
    if (typeof frame.retry_after_s === "number" && head.tries < MAX_TRIES) {
      state.retryTimer = setTimeout(() => { state.retryTimer = null; pump(); }, Math.max(250, frame.retry_after_s * 1000));
      return;
    }
    state.pending.shift();  // refused for good (a bad frame, a limit): the next message may go
    pump();
  }

  function applyFeatures() {
    const canRecord = Boolean(navigator.mediaDevices && window.MediaRecorder);
    el.record.disabled = !state.features.voice || !canRecord;
    el.photo.disabled = !state.features.photo;
    el.photoLabel.classList.toggle("disabled", !state.features.photo);
    el.input.maxLength = state.limits.text_chars;
    el.notices.replaceChildren();
    if (!state.features.voice) {
      addNotice("voice-off", "Voice notes are not enabled yet — please type your question. 语音消息暂未开启。");
    } else if (!canRecord) {
      addNotice("voice-off", "This browser cannot record voice notes.");
    }
    if (!state.features.photo) {
      addNotice("photo-off", "Photos are not enabled yet — please describe the item in words. 图片上传暂未开启。");
    }
  }

  function addNotice(id, text) {
    const span = document.createElement("span");
    span.id = id;
    span.dataset.testid = id;
    span.textContent = text + " ";
    el.notices.append(span);
  }

  function isOpen() { return state.ws !== null && state.ws.readyState === WebSocket.OPEN; }

  function sendFrame(frame) {
    const data = JSON.stringify(frame);
    if (state.pending.length >= MAX_PENDING) { addSystem("error", "Too many messages are waiting to be sent; please wait."); return; }
    state.pending.push({ id: frame.id, data, tries: 0 });
    if (!isOpen()) addSystem("notice", "Reconnecting… your message will be sent when the connection is back.");
    pump();
  }

  function nextId() {
    state.counter += 1;
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${state.counter}`;
  }

  function bubble(kind, lang) {
    const div = document.createElement("div");
    div.className = `msg ${kind}`;
    if (lang) div.lang = lang === "zh" ? "zh-CN" : lang;
    el.messages.append(div);
    return div;
  }

  function scrollDown() { el.messages.scrollTop = el.messages.scrollHeight; }

  function addUser(text) {
    bubble("user").textContent = text;
    scrollDown();
  }

  function addSystem(kind, text) {
    const div = bubble(kind);
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    div.textContent = String(text || "");
    scrollDown();
  }

  function quoteText(quote) {
    if (/^(🎤|📷|🖼)/u.test(quote)) return quote;
    return `${state.lastUpload === "photo" ? "📷" : "🎤"} ${quote}`;
  }

  function addReply(frame) {
    const div = bubble("bot", frame.language);
    if (frame.quote) {
      const quote = document.createElement("span");
      quote.className = "quote";
      quote.dataset.testid = "quote";
      quote.textContent = quoteText(String(frame.quote));
      div.append(quote);
    }
    const answer = document.createElement("span");
    answer.className = "answer";
    answer.textContent = String(frame.text || "");
    div.append(answer);
    const sources = Array.isArray(frame.sources) ? frame.sources : [];
    if (sources.length) {
      const list = document.createElement("ul");
      list.className = "sources";
      list.dataset.testid = "sources";
      for (const source of sources) {
        const item = document.createElement("li");
        item.textContent = String(source.title || source.id);
        item.title = `${source.id} · score ${Number(source.score).toFixed(2)}`;
        list.append(item);
      }
      div.append(list);
    }
    if (frame.escalated) {
      const badge = document.createElement("span");
      badge.className = "escalated";
      badge.dataset.testid = "escalated";
      badge.textContent = "A colleague will reply here soon · 已转人工";
      div.append(badge);
    }
    const buttons = Array.isArray(frame.quick_replies) ? frame.quick_replies : [];
    if (buttons.length) {
      const group = document.createElement("div");
      group.className = "quick-replies";
      for (const button of buttons) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "quick-reply";
        b.dataset.payload = String(button.payload);
        b.textContent = String(button.label);
        b.addEventListener("click", () => pressButton(String(button.label), String(button.payload)));
        group.append(b);
      }
      el.messages.append(group);
    }
    scrollDown();
  }

  function pressButton(label, payload) {
    addUser(label);
    sendFrame({ type: "button", payload, id: nextId() });
  }

  function showTyping(on) {
    clearTimeout(state.typingTimer);
    el.typing.hidden = !on;
    if (on) state.typingTimer = setTimeout(() => { el.typing.hidden = true; }, 20000);
  }

  function setStatus(online, reason) {
    el.status.classList.toggle("online", online);
    el.status.textContent = online ? "Online · 在线" : `Reconnecting…${reason ? ` (${reason})` : ""}`;
  }

  function sendText() {
    const text = el.input.value.trim();
    if (!text) return;
    addUser(text);
    sendFrame({ type: "message", text, id: nextId() });
    el.input.value = "";
  }

  function readBase64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  function tooBig(size, what) {
    const limit = state.limits.upload_bytes;
    if (size <= limit) return false;
    const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
    addSystem("error", `That ${what} is ${mib(size)}; the limit is ${mib(limit)}. It was not sent.`);
    return true;
  }

  async function sendPhoto() {
    const file = el.photo.files && el.photo.files[0];
    el.photo.value = "";
    if (!file || !state.features.photo) return;
    if (!file.type.startsWith("image/")) { addSystem("error", "Please choose an image file."); return; }
    if (tooBig(file.size, "photo")) return;
    const caption = el.input.value.trim();
    el.input.value = "";
    addUser(`📷 ${file.name}${caption ? `\n${caption}` : ""}`);
    state.lastUpload = "photo";
    sendFrame({ type: "photo", data: await readBase64(file), mime: file.type, name: file.name, text: caption, id: nextId() });
  }

  async function toggleRecording() {
    if (state.recorder) { state.recorder.stop(); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      addSystem("error", `The microphone is not available: ${error.message || error}`);
      return;
    }
    const mimeType = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    const chunks = [];
    const timer = setTimeout(() => recorder.state === "recording" && recorder.stop(), MAX_RECORDING_MS);
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = async () => {
      clearTimeout(timer);
      stream.getTracks().forEach((track) => track.stop());
      state.recorder = null;
      el.record.classList.remove("recording");
      const mime = (recorder.mimeType || "audio/webm").split(";")[0];
      const blob = new Blob(chunks, { type: mime });
      if (!blob.size || tooBig(blob.size, "voice note")) return;
      addUser("🎤 Voice note · 语音");
      state.lastUpload = "voice";
      sendFrame({ type: "voice", data: await readBase64(blob), mime, id: nextId() });
    };
    state.recorder = recorder;
    el.record.classList.add("recording");
    recorder.start();
  }

  el.composer.addEventListener("submit", (event) => { event.preventDefault(); sendText(); });
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendText(); }
  });
  el.human.addEventListener("click", () => pressButton(HUMAN_LABEL, state.humanPayload));
  el.record.addEventListener("click", toggleRecording);
  el.photo.addEventListener("change", sendPhoto);
  connect();
})();
