// skillpass verifier page: scan with the camera, upload a picture or PDF, or paste the QR text, and
// show the verdict the service gives. Plain browser JavaScript, no build step, no third-party code.
// Every string a person reads lives in STRINGS, so the language switch can redraw everything.
"use strict";

(() => {
  const SCAN_INTERVAL_MS = 400;
  const FRAME_MAX_SIDE = 1280;

  const STRINGS = {
    zh: {
      title: "职业技能等级证书核验",
      langSwitch: "English",
      langSwitchLabel: "Switch to English",
      cameraHeading: "扫码核验",
      cameraStart: "打开摄像头扫码",
      cameraStop: "停止扫码",
      cameraStarting: "正在打开摄像头…",
      cameraScanning: "请将证书上的二维码对准摄像头，保持清晰、完整。",
      cameraDenied: "无法使用摄像头（{reason}）。请改用上传图片或粘贴文本。",
      cameraUnsupported: "此浏览器无法使用摄像头。请改用上传图片或粘贴文本。",
      uploadHeading: "上传图片或 PDF",
      uploadLabel: "选择证书图片（PNG、JPEG、WebP）或 PDF",
      pasteHeading: "粘贴二维码内容",
      pasteLabel: "二维码文本",
      pastePlaceholder: "以 SP1: 开头的二维码文本",
      pasteSubmit: "核验",
      pasteEmpty: "请先粘贴二维码内容。",
      holderHeading: "核对持证人（可选）",
      holderHint: "填写后将与证书中的姓名和证件号码比对。",
      holderName: "姓名",
      holderId: "证件号码",
      holderIncomplete: "核对持证人时，姓名和证件号码需同时填写。",
      busy: "正在核验…",
      checksHeading: "核验项目",
      footer: "本页面不会保存您核验的证书信息。",
      result_valid: "有效",
      result_invalid: "无效",
      result_indeterminate: "无法确定",
      failedCheck: "未通过的项目：{name}",
      outcome_pass: "通过",
      outcome_fail: "未通过",
      outcome_not_run: "未执行",
      institution: "发证机构",
      certificate_number: "证书编号",
      holder_name: "姓名",
      id_type: "证件类型",
      id_number_masked: "证件号码",
      occupation: "职业",
      level: "等级",
      work_type: "工种/职业方向",
      issue_date: "发证日期",
      unverifiedFields: "以下内容未通过核验，不可采信：",
      trustMinutes: "信任数据更新于 {n} 分钟前",
      trustHours: "信任数据更新于 {n} 小时前",
      trustDays: "信任数据更新于 {n} 天前",
      trustNone: "尚无信任数据：无法给出有效结论",
      trustVersion: "（第 {n} 版）",
      trustStale: "，已过期，请联网同步",
      mode_offline: "离线核验",
      mode_online: "联网核验",
      holderMatch: "持证人核对：一致",
      holderMismatch: "持证人核对：不一致",
      holderHow_online: "（由登记系统比对）",
      holderHow_offline: "（与二维码中的姓名和证件号码后几位比对）",
      networkError: "无法连接核验服务，请检查网络后重试。",
    },
    en: {
      title: "Skill Certificate Verification",
      langSwitch: "中文",
      langSwitchLabel: "切换到中文",
      cameraHeading: "Scan",
      cameraStart: "Scan with camera",
      cameraStop: "Stop scanning",
      cameraStarting: "Opening the camera…",
      cameraScanning: "Hold the certificate's QR code in front of the camera, sharp and whole.",
      cameraDenied: "The camera cannot be used ({reason}). Upload a picture or paste the text instead.",
      cameraUnsupported: "This browser cannot use a camera. Upload a picture or paste the text instead.",
      uploadHeading: "Upload a picture or PDF",
      uploadLabel: "Choose a certificate picture (PNG, JPEG, WebP) or PDF",
      pasteHeading: "Paste the QR text",
      pasteLabel: "QR text",
      pastePlaceholder: "QR text starting with SP1:",
      pasteSubmit: "Verify",
      pasteEmpty: "Paste the QR text first.",
      holderHeading: "Confirm the holder (optional)",
      holderHint: "If filled in, compared with the name and ID number on the certificate.",
      holderName: "Name",
      holderId: "ID number",
      holderIncomplete: "To confirm the holder, fill in both the name and the ID number.",
      busy: "Verifying…",
      checksHeading: "Checks",
      footer: "This page does not keep the certificates you verify.",
      result_valid: "Valid",
      result_invalid: "Invalid",
      result_indeterminate: "Indeterminate",
      failedCheck: "Failed check: {name}",
      outcome_pass: "passed",
      outcome_fail: "failed",
      outcome_not_run: "not run",
      institution: "Issued by",
      certificate_number: "Certificate number",
      holder_name: "Name",
      id_type: "ID type",
      id_number_masked: "ID number",
      occupation: "Occupation",
      level: "Level",
      work_type: "Work type",
      issue_date: "Issue date",
      unverifiedFields: "The content below did not pass verification; do not rely on it:",
      trustMinutes: "trust data {n} minutes old",
      trustHours: "trust data {n} hours old",
      trustDays: "trust data {n} days old",
      trustNone: "no trust data: no verdict can be valid",
      trustVersion: " (version {n})",
      trustStale: ", expired: sync with the registry",
      mode_offline: "offline verification",
      mode_online: "online verification",
      holderMatch: "Holder: matches",
      holderMismatch: "Holder: does not match",
      holderHow_online: " (checked by the registry)",
      holderHow_offline: " (compared with the name and ID digits in the QR code)",
      networkError: "Cannot reach the verification service; check the network and try again.",
    },
  };

  const LEVELS = {
    zh: { 1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工" },
    en: {
      1: "Level 1 / Senior Technician",
      2: "Level 2 / Technician",
      3: "Level 3 / Senior Worker",
      4: "Level 4 / Intermediate Worker",
      5: "Level 5 / Junior Worker",
    },
  };

  const ID_TYPES_EN = {
    居民身份证: "Resident identity card",
    护照: "Passport",
    港澳居民来往内地通行证: "Mainland travel permit (Hong Kong / Macao)",
    台湾居民来往大陆通行证: "Mainland travel permit (Taiwan)",
    外国人永久居留身份证: "Foreign permanent resident ID card",
    港澳台居民居住证: "Residence permit (Hong Kong / Macao / Taiwan)",
  };

  // The checks in DESIGN's order, named for people; the service's messages say what each result means.
  const CHECK_NAMES = {
    zh: {
      format: "二维码格式",
      key_known: "签名密钥已登记",
      signature: "签名与内容完整性",
      key_valid: "签名密钥在有效期内",
      institution_active: "评价机构备案状态",
      scope: "机构认定范围（职业、等级）",
      certificate_number: "证书编号",
      status: "证书状态（撤销、暂停）",
      registry_record: "全国联网查询系统记录",
    },
    en: {
      format: "QR code format",
      key_known: "Signing key registered",
      signature: "Signature and content integrity",
      key_valid: "Signing key in force",
      institution_active: "Institution in good standing",
      scope: "Institution's scope (occupation, level)",
      certificate_number: "Certificate number",
      status: "Certificate status (revoked, suspended)",
      registry_record: "National registry record",
    },
  };

  const HOLDER_METHODS = { online_registry: "holderHow_online", offline_masked: "holderHow_offline" };

  const MARKS = { valid: "✓", invalid: "✗", indeterminate: "?" };

  const state = { lang: "zh", verdict: null, error: null, trust: null, cameraKey: null, cameraReason: "" };
  const camera = { stream: null, timer: null, inFlight: false, detector: null };

  const el = (id) => document.querySelector(`[data-testid="${id}"]`);
  const t = (key, vars) => {
    const text = STRINGS[state.lang][key] ?? STRINGS.zh[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(vars?.[name] ?? ""));
  };
  const pick = (obj, base) => (obj ? obj[`${base}_${state.lang}`] ?? obj[`${base}_zh`] ?? "" : "");

  // ---- language

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    const button = el("lang-switch");
    button.textContent = t("langSwitch");
    button.setAttribute("aria-label", t("langSwitchLabel"));
    renderTrust();
    renderCameraStatus();
    renderError();
    renderVerdict();
  }

  function switchLanguage() {
    state.lang = state.lang === "zh" ? "en" : "zh";
    try {
      localStorage.setItem("skillpass-lang", state.lang);
    } catch {
      // storage may be disabled; the switch still works for this visit
    }
    applyLanguage();
  }

  function initialLanguage() {
    const fromQuery = new URLSearchParams(location.search).get("lang");
    let stored = null;
    try {
      stored = localStorage.getItem("skillpass-lang");
    } catch {
      stored = null;
    }
    const wanted = fromQuery || stored;
    return wanted === "en" ? "en" : "zh";
  }

  // ---- talking to the service

  function holderFields() {
    const name = el("holder-name").value.trim();
    const idNumber = el("holder-id").value.trim();
    if (!name && !idNumber) return { holder: null };
    if (!name || !idNumber) return { problem: "holderIncomplete" };
    return { holder: { name, id_number: idNumber } };
  }

  async function send(request) {
    let response;
    try {
      response = await request();
    } catch {
      return { error: { local: "networkError" } };
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.ok && body && typeof body.result === "string") return { verdict: body };
    return { error: body && body.code ? body : { local: "networkError" } };
  }

  function verifyText(qr) {
    const { holder, problem } = holderFields();
    if (problem) return Promise.resolve({ error: { local: problem } });
    const payload = holder ? { qr, holder } : { qr };
    return send(() =>
      fetch("/api/v1/verify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      }),
    );
  }

  function verifyFile(blob, filename) {
    const { holder, problem } = holderFields();
    if (problem) return Promise.resolve({ error: { local: problem } });
    const form = new FormData();
    form.append("file", blob, filename);
    if (holder) {
      form.append("holder_name", holder.name);
      form.append("holder_id_number", holder.id_number);
    }
    return send(() => fetch("/api/v1/verify/image", { method: "POST", body: form }));
  }

  async function loadTrust() {
    try {
      const response = await fetch("/api/v1/trust");
      state.trust = response.ok ? await response.json() : null;
    } catch {
      state.trust = null;
    }
    renderTrust();
  }

  // ---- showing results

  async function runVerification(job) {
    state.error = null;
    renderError();
    el("busy").hidden = false;
    const outcome = await job();
    el("busy").hidden = true;
    show(outcome);
    return outcome;
  }

  function show(outcome) {
    state.verdict = outcome.verdict ?? null;
    state.error = outcome.error ?? null;
    renderError();
    renderVerdict();
    if (outcome.verdict) el("verdict").focus({ preventScroll: false });
  }

  function renderError() {
    const box = el("error");
    if (!state.error) {
      box.hidden = true;
      box.textContent = "";
      delete box.dataset.code;
      return;
    }
    box.hidden = false;
    box.dataset.code = state.error.code ?? state.error.local;
    box.textContent = state.error.local ? t(state.error.local) : pick(state.error, "message");
  }

  function renderVerdict() {
    const box = el("verdict");
    const verdict = state.verdict;
    if (!verdict) {
      box.hidden = true;
      box.removeAttribute("data-result");
      return;
    }
    box.hidden = false;
    box.tabIndex = -1;
    box.dataset.result = verdict.result;
    box.dataset.code = verdict.code;
    box.querySelector(".mark").textContent = MARKS[verdict.result] ?? "?";
    box.querySelector(".label").textContent = t(`result_${verdict.result}`);
    const failed = (verdict.checks || []).find((check) => check.outcome === "fail");
    el("verdict-reason").textContent = pick(verdict, "message");
    const notes = verdict.notes || [];
    const note = el("verdict-note");
    note.hidden = notes.length === 0;
    note.textContent = notes.map((item) => pick(item, "message")).join(" ");
    renderFailedCheck(failed);
    renderHolder(verdict.holder_confirmation);
    renderFields(verdict);
    renderChecks(verdict.checks || []);
    el("trust-age").textContent = [trustAge(verdict.trust_age_seconds), modeText(verdict.mode)]
      .filter(Boolean)
      .join(" · ");
  }

  function renderFailedCheck(failed) {
    const node = el("failed-check");
    node.hidden = !failed;
    node.textContent = failed ? t("failedCheck", { name: checkName(failed) }) : "";
    if (failed) node.dataset.code = failed.failure_code || failed.code;
    else delete node.dataset.code;
  }

  function renderHolder(confirmation) {
    const node = el("holder-result");
    if (!confirmation || typeof confirmation !== "object") {
      node.hidden = true;
      node.textContent = "";
      return;
    }
    const match = Boolean(confirmation.name_match && confirmation.id_match);
    node.hidden = false;
    node.dataset.match = String(match);
    const how = HOLDER_METHODS[confirmation.method] ? t(HOLDER_METHODS[confirmation.method]) : "";
    node.textContent = t(match ? "holderMatch" : "holderMismatch") + how;
  }

  function renderFields(verdict) {
    const list = el("certificate");
    list.replaceChildren();
    const unverified = verdict.result !== "valid" && Boolean(verdict.credential);
    list.classList.toggle("unverified", unverified);
    const warning = el("unverified-warning");
    warning.hidden = !unverified;
    warning.textContent = unverified ? t("unverifiedFields") : "";
    const add = (key, value) => {
      if (value === undefined || value === null || value === "") return;
      const term = document.createElement("dt");
      term.textContent = t(key);
      const detail = document.createElement("dd");
      detail.textContent = String(value);
      detail.dataset.field = key;
      list.append(term, detail);
    };
    add("institution", verdict.institution?.name);
    const c = verdict.credential;
    if (!c) return;
    add("certificate_number", c.certificate_number);
    add("holder_name", c.holder_name);
    add("id_type", state.lang === "en" ? ID_TYPES_EN[c.id_type] ?? c.id_type : c.id_type);
    add("id_number_masked", c.id_number_masked);
    const occupation = [c.occupation_code, c.occupation_name].filter(Boolean).join(" ");
    add("occupation", occupation);
    add("level", LEVELS[state.lang][c.level] ?? c.level_name);
    add("work_type", c.work_type);
    add("issue_date", c.issue_date);
  }

  function renderChecks(checks) {
    const list = el("checks");
    list.replaceChildren();
    for (const check of checks) {
      const item = document.createElement("li");
      item.setAttribute("data-testid", "check");
      item.dataset.code = check.code;
      item.dataset.outcome = check.outcome;
      item.className = `check ${check.outcome}`;
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.setAttribute("aria-hidden", "true");
      mark.textContent = { pass: "✓", fail: "✗", not_run: "–" }[check.outcome] ?? "–";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = checkName(check);
      const outcome = document.createElement("span");
      outcome.className = "outcome";
      outcome.textContent = t(`outcome_${check.outcome}`);
      item.append(mark, name, outcome);
      if (check.outcome === "fail") {
        const why = document.createElement("p");
        why.className = "why";
        why.textContent = pick(check, "message");
        item.append(why);
      }
      list.append(item);
    }
  }

  function checkName(check) {
    return CHECK_NAMES[state.lang][check.code] ?? check.code;
  }

  function trustAge(seconds) {
    if (seconds === null || seconds === undefined) return t("trustNone");
    const minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 120) return t("trustMinutes", { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t("trustHours", { n: hours });
    return t("trustDays", { n: Math.floor(hours / 24) });
  }

  function modeText(mode) {
    return mode ? t(`mode_${mode}`) : "";
  }

  function renderTrust() {
    const node = el("trust-status");
    const trust = state.trust;
    if (!trust) {
      node.textContent = "";
      return;
    }
    node.dataset.available = String(Boolean(trust.available));
    if (!trust.available) {
      node.textContent = t("trustNone");
      return;
    }
    const version = trust.sequence !== null && trust.sequence !== undefined ? t("trustVersion", { n: trust.sequence }) : "";
    const stale = trust.fresh === false ? t("trustStale") : "";
    node.dataset.fresh = String(trust.fresh !== false);
    node.textContent = trustAge(trust.age_seconds) + version + stale;
  }

  // ---- camera

  function renderCameraStatus() {
    el("camera-status").textContent = state.cameraKey ? t(state.cameraKey, { reason: state.cameraReason }) : "";
  }

  function setCameraStatus(key, reason = "") {
    state.cameraKey = key;
    state.cameraReason = reason;
    renderCameraStatus();
  }

  async function qrDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch {
      return null;
    }
  }

  async function startCamera() {
    if (camera.stream) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      setCameraStatus("cameraUnsupported");
      return;
    }
    setCameraStatus("cameraStarting");
    try {
      camera.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      setCameraStatus("cameraDenied", error?.name || "error");
      return;
    }
    const video = el("camera-video");
    video.srcObject = camera.stream;
    el("camera-view").hidden = false;
    el("camera-start").hidden = true;
    el("camera-stop").hidden = false;
    try {
      await video.play();
    } catch {
      // autoplay of a muted stream is allowed; frames still arrive for the canvas
    }
    camera.detector = await qrDetector();
    setCameraStatus("cameraScanning");
    scheduleScan();
  }

  function stopCamera() {
    clearTimeout(camera.timer);
    camera.timer = null;
    if (camera.stream) for (const track of camera.stream.getTracks()) track.stop();
    camera.stream = null;
    const video = el("camera-video");
    video.srcObject = null;
    el("camera-view").hidden = true;
    el("camera-start").hidden = false;
    el("camera-stop").hidden = true;
  }

  function scheduleScan() {
    camera.timer = setTimeout(scanOnce, SCAN_INTERVAL_MS);
  }

  async function scanOnce() {
    if (!camera.stream) return;
    const video = el("camera-video");
    if (camera.inFlight || video.readyState < 2 || !video.videoWidth) {
      scheduleScan();
      return;
    }
    camera.inFlight = true;
    try {
      const outcome = camera.detector ? await scanWithDetector(video) : await scanByUpload(video);
      if (outcome) {
        stopCamera();
        setCameraStatus(null);
        show(outcome);
        return;
      }
    } finally {
      camera.inFlight = false;
    }
    if (camera.stream) scheduleScan();
  }

  async function scanWithDetector(video) {
    let codes = [];
    try {
      codes = await camera.detector.detect(video);
    } catch {
      camera.detector = null; // fall back to the service reading frames
      return null;
    }
    const text = codes.find((code) => code.rawValue)?.rawValue;
    return text ? verifyText(text) : null;
  }

  async function scanByUpload(video) {
    const blob = await frameAsPng(video);
    if (!blob) return null;
    const outcome = await verifyFile(blob, "camera.png");
    if (outcome.error && (outcome.error.code === "qr_not_found" || outcome.error.local === "networkError")) {
      return null; // keep looking; the next frame may be sharper
    }
    return outcome;
  }

  function frameAsPng(video) {
    const scale = Math.min(1, FRAME_MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  // ---- wiring

  function onFileChosen(event) {
    const file = event.target.files?.[0];
    if (!file) return;
    runVerification(() => verifyFile(file, file.name)).finally(() => {
      event.target.value = "";
    });
  }

  function onPasteSubmit() {
    const text = el("paste-input").value.trim();
    if (!text) {
      show({ error: { local: "pasteEmpty" } });
      return;
    }
    runVerification(() => verifyText(text));
  }

  function init() {
    state.lang = initialLanguage();
    el("lang-switch").addEventListener("click", switchLanguage);
    el("camera-start").addEventListener("click", startCamera);
    el("camera-stop").addEventListener("click", () => {
      stopCamera();
      setCameraStatus(null);
    });
    el("file-input").addEventListener("change", onFileChosen);
    el("paste-submit").addEventListener("click", onPasteSubmit);
    el("paste-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) onPasteSubmit();
    });
    applyLanguage();
    loadTrust();
    document.body.dataset.ready = "true";
  }

  init();
})();
