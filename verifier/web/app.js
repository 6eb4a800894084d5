// skillpass verifier page: scan with the camera, upload a picture or PDF, or paste the QR text, and
// show the verdict the service gives. Plain browser JavaScript, no build step, no third-party code.
// Every string a person reads lives in STRINGS, so the language switch can redraw everything.
"use strict";

(() => {
  const SCAN_INTERVAL_MS = 400;
  const FRAME_MAX_SIDE = 1280;
  const FRAGMENT_PREFIX = "#SP2.";

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
      pastePlaceholder: "以 SP2: 开头的二维码文本，或核验网址",
      pasteSubmit: "核验",
      pasteEmpty: "请先粘贴二维码内容。",
      holderHeading: "核对持证人（可选）",
      holderHint: "填写后将与证书中的姓名和证件号码比对。",
      holderName: "姓名",
      holderId: "证件号码",
      holderIncomplete: "核对持证人时，姓名和证件号码需同时填写。",
      holderMissingName: "请填写姓名，或清空证件号码。",
      holderMissingId: "请填写证件号码，或清空姓名。",
      bulkHeading: "批量核验",
      bulkLabel: "选择多个文件：证书图片、PDF（每页都核验）、ZIP，或含二维码文本列的 CSV/XLSX",
      bulkLimits: "每批最多 1000 个文件、2000 份证书，合计不超过 256 MiB；超出时整批不处理。",
      bulkStage_upload: "正在上传 {total} 个文件…",
      bulkStage_read: "正在读取二维码：{done}/{total}",
      bulkStage_verify: "正在核验：{done}/{total}",
      bulkSummary: "共 {n} 份证书：{parts}",
      codesSummary: "此文件含 {n} 个二维码或页面，已逐一核验：{parts}。下方结果仅针对第一个。",
      codesPage: "第 {page} 页",
      codesFirst: "第一个：{label}",
      bulkXlsx: "下载 XLSX 报告",
      bulkCsv: "下载 CSV 报告",
      bulkReceipt: "下载核验回执",
      bulkPage: "第 {n} 页",
      bulkIndex: "第 {n} 个",
      bulkRow: "第 {n} 行",
      bulkCol_number: "序号",
      bulkCol_outcome: "结果",
      bulkCol_certificate_number: "证书编号",
      bulkCol_holder_name: "姓名",
      bulkCol_institution: "发证机构",
      bulkCol_level: "等级",
      bulkCol_occupation: "职业",
      bulkCol_reason: "原因",
      bulkCol_source: "来源",
      busy: "正在核验…",
      verdictAria: "核验结果：{label}",
      printButton: "打印核验记录",
      printTitle: "职业技能等级证书核验记录",
      verified_at: "核验时间",
      trust_data: "信任数据",
      trustVersionAge: "第 {version} 版，{age}",
      ageMinutes: "{n} 分钟前更新",
      ageHours: "{n} 小时前更新",
      ageDays: "{n} 天前更新",
      verifier_host: "核验服务",
      verify_mode: "核验方式",
      status_date_revoked: "撤销日期",
      status_date_suspended: "暂停日期",
      reason_category: "原因类别",
      indeterminateFields: "以下内容尚未能核实，请按上面的提示处理后重新核验：",
      checksHeading: "核验项目",
      footer: "本页面不会保存您核验的证书信息。",
      failedCheck: "未通过的项目：{name}",
      undecidedCheck: "未能完成的项目：{name}",
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
      pastePlaceholder: "QR text starting with SP2:, or the verifier URL",
      pasteSubmit: "Verify",
      pasteEmpty: "Paste the QR text first.",
      holderHeading: "Confirm the holder (optional)",
      holderHint: "If filled in, compared with the name and ID number on the certificate.",
      holderName: "Name",
      holderId: "ID number",
      holderIncomplete: "To confirm the holder, fill in both the name and the ID number.",
      holderMissingName: "Fill in the name, or clear the ID number.",
      holderMissingId: "Fill in the ID number, or clear the name.",
      bulkHeading: "Verify a list",
      bulkLabel: "Choose several files: certificate pictures, PDFs (every page), ZIPs, or CSV/XLSX with a column of QR texts",
      bulkLimits: "Up to 1,000 files and 2,000 certificates per batch, 256 MiB in all; a larger batch is refused whole.",
      bulkStage_upload: "Uploading {total} files…",
      bulkStage_read: "Reading QR codes: {done}/{total}",
      bulkStage_verify: "Verifying: {done}/{total}",
      bulkSummary: "{n} certificates: {parts}",
      codesSummary: "This file holds {n} QR codes or pages, each verified: {parts}. The result below is the first one's only.",
      codesPage: "page {page}",
      codesFirst: "First code: {label}",
      bulkXlsx: "Download the XLSX report",
      bulkCsv: "Download the CSV report",
      bulkReceipt: "Download the receipt",
      bulkPage: "page {n}",
      bulkIndex: "code {n}",
      bulkRow: "row {n}",
      bulkCol_number: "No.",
      bulkCol_outcome: "Outcome",
      bulkCol_certificate_number: "Certificate number",
      bulkCol_holder_name: "Name",
      bulkCol_institution: "Institution",
      bulkCol_level: "Level",
      bulkCol_occupation: "Occupation",
      bulkCol_reason: "Reason",
      bulkCol_source: "Found in",
      busy: "Verifying…",
      verdictAria: "Verification result: {label}",
      printButton: "Print the verification record",
      printTitle: "Skill certificate verification record",
      verified_at: "Verified at",
      trust_data: "Trust data",
      trustVersionAge: "version {version}, {age}",
      ageMinutes: "updated {n} minutes ago",
      ageHours: "updated {n} hours ago",
      ageDays: "updated {n} days ago",
      verifier_host: "Verifier",
      verify_mode: "Mode",
      status_date_revoked: "Revoked on",
      status_date_suspended: "Suspended on",
      reason_category: "Reason",
      indeterminateFields: "The content below could not be checked yet; follow the advice above and verify again:",
      checksHeading: "Checks",
      footer: "This page does not keep the certificates you verify.",
      failedCheck: "Failed check: {name}",
      undecidedCheck: "Check that could not be completed: {name}",
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

  const state = {
    lang: "zh",
    verdict: null,
    error: null,
    trust: null,
    cameraKey: null,
    cameraReason: "",
    holderError: null,
  };
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
    renderBulk();
    if (state.holderError) el("holder-error").textContent = `${t("holderIncomplete")} ${t(state.holderError)}`;
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

  // A half-filled holder form is reported inside the form, next to the empty field, which gets
  // the focus: on a phone the result area is a screen away, so an error there would go unseen.
  function holderFields() {
    const name = el("holder-name").value.trim();
    const idNumber = el("holder-id").value.trim();
    showHolderError(null);
    if (!name && !idNumber) return { holder: null };
    if (!name || !idNumber) {
      showHolderError(name ? "holderMissingId" : "holderMissingName", name ? "holder-id" : "holder-name");
      return { problem: "holderIncomplete", shown: true };
    }
    return { holder: { name, id_number: idNumber } };
  }

  function showHolderError(key, field) {
    state.holderError = key;
    const box = el("holder-error");
    for (const id of ["holder-name", "holder-id"]) el(id).removeAttribute("aria-invalid");
    if (!key) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    box.hidden = false;
    box.textContent = `${t("holderIncomplete")} ${t(key)}`;
    el("holder-box").open = true;
    const input = el(field);
    input.setAttribute("aria-invalid", "true");
    input.focus({ preventScroll: true });
    box.scrollIntoView({ block: "center" });
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
    if (response.ok && body && typeof body.outcome === "string") return { verdict: body };
    return { error: body && body.code ? body : { local: "networkError" } };
  }

  function verifyText(qr) {
    const { holder, problem, shown } = holderFields();
    if (problem) return Promise.resolve({ error: { local: problem, shown } });
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
    const { holder, problem, shown } = holderFields();
    if (problem) return Promise.resolve({ error: { local: problem, shown } });
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
    if (!state.error || state.error.shown) {
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
      box.removeAttribute("data-outcome");
      return;
    }
    box.hidden = false;
    box.tabIndex = -1;
    box.dataset.result = verdict.result;
    box.dataset.outcome = verdict.outcome;
    box.dataset.code = verdict.code;
    const label = verdict.outcome_label ?? {};
    const words = label[state.lang] ?? label.zh ?? verdict.outcome;
    box.querySelector(".mark").textContent = label.symbol ?? "";
    const several = (verdict.codes || []).length > 1;
    box.querySelector(".label").textContent = several ? t("codesFirst", { label: words }) : words;
    box.setAttribute("aria-label", t("verdictAria", { label: words }));
    const failed = (verdict.checks || []).find((check) => check.outcome === "fail");
    el("verdict-reason").textContent = pick(verdict, "message");
    const notes = verdict.notes || [];
    const note = el("verdict-note");
    note.hidden = notes.length === 0;
    note.textContent = notes.map((item) => pick(item, "message")).join(" ");
    const host = verdict.verifier_host;
    const hostWarning = el("host-warning");
    hostWarning.hidden = !host || host.official;
    hostWarning.textContent = host && !host.official ? pick(host, "message") : "";
    const namesCheck = !["valid", "unrecognized"].includes(verdict.outcome);
    renderFailedCheck(namesCheck ? failed : null, verdict.outcome);
    renderCodes(verdict.codes || []);
    renderHolder(verdict.holder_confirmation);
    renderFields(verdict);
    renderChecks(verdict.checks || []);
    renderRecord(verdict);
    el("trust-age").textContent = [trustAge(verdict.trust_age_seconds), modeText(verdict.mode)]
      .filter(Boolean)
      .join(" · ");
  }

  // The verification record: what a printout (or a screenshot filed by HR) must show besides the
  // verdict itself. The time is China Standard Time, like every date the registry keeps.
  function renderRecord(verdict) {
    const list = el("record");
    list.replaceChildren();
    const add = (key, value) => {
      if (value === undefined || value === null || value === "") return;
      const term = document.createElement("dt");
      term.textContent = t(key);
      const detail = document.createElement("dd");
      detail.textContent = String(value);
      detail.dataset.field = key;
      list.append(term, detail);
    };
    add("verified_at", cstMinute(verdict.verified_at));
    if (verdict.trust_version !== null && verdict.trust_version !== undefined) {
      const age = trustAge(verdict.trust_age_seconds, "age");
      add("trust_data", t("trustVersionAge", { version: verdict.trust_version, age }));
    } else {
      add("trust_data", t("trustNone"));
    }
    add("verify_mode", modeText(verdict.mode));
    add("verifier_host", location.host);
  }

  function cstMinute(unix) {
    if (typeof unix !== "number") return "";
    return `${new Date((unix + 8 * 3600) * 1000).toISOString().slice(0, 16).replace("T", " ")} CST`;
  }

  function renderFailedCheck(failed, outcome) {
    const node = el("failed-check");
    node.hidden = !failed;
    const key = outcome === "indeterminate" ? "undecidedCheck" : "failedCheck";
    node.textContent = failed ? t(key, { name: checkName(failed) }) : "";
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
    // Only forged or altered content is marked as not to be relied on. A revoked, suspended or
    // holder-mismatch certificate is genuine: its fields are shown plainly.
    const forged = verdict.outcome === "invalid" && Boolean(verdict.credential);
    const unchecked = verdict.outcome === "indeterminate" && Boolean(verdict.credential);
    list.classList.toggle("unverified", forged);
    const warning = el("unverified-warning");
    warning.hidden = !(forged || unchecked);
    warning.dataset.kind = forged ? "forged" : "unchecked";
    warning.textContent = forged ? t("unverifiedFields") : unchecked ? t("indeterminateFields") : "";
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
    const status = verdict.status;
    if (status && (status.value === "revoked" || status.value === "suspended")) {
      add(`status_date_${status.value}`, status.date);
      add("reason_category", pick(status, "reason"));
    }
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

  function trustAge(seconds, prefix = "trust") {
    if (seconds === null || seconds === undefined) return t("trustNone");
    const minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 120) return t(`${prefix}Minutes`, { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t(`${prefix}Hours`, { n: hours });
    return t(`${prefix}Days`, { n: Math.floor(hours / 24) });
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

  // ---- bulk verification: many files (pictures, PDFs, ZIPs, CSV/XLSX) at once

  const BULK_COLUMNS = ["number", "outcome", "certificate_number", "holder_name", "institution", "level", "occupation", "reason", "source"];
  const bulk = { results: [], receipt: null, sortKey: "number", sortUp: true, running: false, error: null, progress: null };

  function bulkRow(result, index) {
    const c = result.credential || {};
    const label = result.outcome_label || {};
    return {
      number: index + 1,
      outcome: `${label.symbol ?? ""} ${label[state.lang] ?? result.outcome}`,
      outcomeCode: result.outcome,
      certificate_number: c.certificate_number ?? "",
      holder_name: c.holder_name ?? "",
      institution: result.institution?.name ?? "",
      level: c.level ? LEVELS[state.lang][c.level] ?? c.level_name : "",
      occupation: [c.occupation_code, c.occupation_name].filter(Boolean).join(" "),
      reason: result.outcome === "valid" ? "" : pick(result, "message"),
      source: sourceText(result.source || {}),
    };
  }

  function sourceText(source) {
    const parts = [source.member ? `${source.file} › ${source.member}` : source.file ?? ""];
    if (source.page) parts.push(t("bulkPage", { n: source.page }));
    if (source.index) parts.push(t("bulkIndex", { n: source.index }));
    if (source.row) parts.push(t("bulkRow", { n: source.row }));
    return parts.join(" · ");
  }

  async function runBatch(files) {
    if (bulk.running || !files.length) return;
    bulk.running = true;
    bulk.error = null;
    bulk.results = [];
    bulk.receipt = null;
    bulk.progress = { stage: "upload", done: 0, total: files.length };
    renderBulk();
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    try {
      const response = await fetch("/api/v1/verify/batch?progress=1", { method: "POST", body: form });
      if (!response.ok) {
        let body = null;
        try {
          body = await response.json();
        } catch {
          body = null;
        }
        bulk.error = body && body.code ? body : { local: "networkError" };
      } else {
        await readLines(response, onBatchLine);
      }
    } catch {
      bulk.error = { local: "networkError" };
    }
    bulk.running = false;
    bulk.progress = null;
    renderBulk();
  }

  async function readLines(response, onLine) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) onLine(JSON.parse(line));
        newline = buffer.indexOf("\n");
      }
      if (done) return;
    }
  }

  function onBatchLine(line) {
    if (line.progress) {
      bulk.progress = line.progress;
    } else if (line.answer) {
      bulk.results = line.answer.results;
      bulk.receipt = line.answer.receipt;
    } else if (line.error) {
      bulk.error = line.error;
    }
    renderBulk();
  }

  function renderBulk() {
    const bar = el("bulk-progress");
    const status = el("bulk-status");
    if (bulk.progress) {
      bar.hidden = false;
      const { stage, done, total } = bulk.progress;
      bar.max = Math.max(total, 1);
      if (stage === "upload") bar.removeAttribute("value");
      else bar.value = done;
      status.textContent = t(`bulkStage_${stage}`, { done, total });
    } else {
      bar.hidden = true;
      status.textContent = bulk.results.length ? bulkSummary() : "";
    }
    const error = el("bulk-error");
    error.hidden = !bulk.error;
    error.textContent = bulk.error ? (bulk.error.local ? t(bulk.error.local) : pick(bulk.error, "message")) : "";
    if (bulk.error) error.dataset.code = bulk.error.code ?? bulk.error.local;
    el("bulk-results").hidden = !bulk.results.length;
    renderBulkTable();
  }

  function bulkSummary() {
    return t("bulkSummary", { n: bulk.results.length, parts: outcomeCounts(bulk.results) });
  }

  // "有效 18，已撤销 1": how many of each outcome, in the words of the page's language.
  function outcomeCounts(results) {
    const counts = {};
    for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
    const parts = Object.keys(counts).map((outcome) => {
      const label = results.find((r) => r.outcome === outcome).outcome_label ?? {};
      return `${label[state.lang] ?? outcome} ${counts[outcome]}`;
    });
    return parts.join(state.lang === "zh" ? "，" : ", ");
  }

  // A file with several codes (a batch PDF, a sheet of QR codes): every one listed with its outcome,
  // so the headline about the first can never stand for the rest.
  function renderCodes(codes) {
    const box = el("codes");
    const list = el("codes-list");
    list.replaceChildren();
    box.hidden = codes.length < 2;
    if (box.hidden) return;
    box.dataset.allValid = String(codes.every((code) => code.outcome === "valid"));
    el("codes-summary").textContent = t("codesSummary", { n: codes.length, parts: outcomeCounts(codes) });
    for (const code of codes) {
      const label = code.outcome_label ?? {};
      const item = document.createElement("li");
      item.dataset.outcome = code.outcome;
      const credential = code.credential ?? {};
      const who = [credential.certificate_number, credential.holder_name].filter(Boolean).join(" ");
      const reason = code.outcome === "valid" ? "" : pick(code, "message");
      item.textContent = [`${label.symbol ?? ""} ${label[state.lang] ?? code.outcome}`, t("codesPage", { page: code.page }), who, reason]
        .filter(Boolean)
        .join(" · ");
      list.append(item);
    }
  }

  function renderBulkTable() {
    const head = el("bulk-head");
    head.replaceChildren();
    for (const key of BULK_COLUMNS) {
      const th = document.createElement("th");
      th.scope = "col";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.dataset.key = key;
      button.textContent = t(`bulkCol_${key}`);
      button.addEventListener("click", () => sortBy(key));
      th.append(button);
      th.setAttribute("aria-sort", bulk.sortKey === key ? (bulk.sortUp ? "ascending" : "descending") : "none");
      head.append(th);
    }
    const rows = bulk.results.map(bulkRow);
    const direction = bulk.sortUp ? 1 : -1;
    rows.sort((a, b) => {
      const x = a[bulk.sortKey];
      const y = b[bulk.sortKey];
      const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
      return order * direction || a.number - b.number;
    });
    const body = el("bulk-body");
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.outcome = row.outcomeCode;
      tr.setAttribute("data-testid", "bulk-row");
      for (const key of BULK_COLUMNS) {
        const td = document.createElement("td");
        td.textContent = String(row[key]);
        td.dataset.key = key;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  function sortBy(key) {
    if (bulk.sortKey === key) bulk.sortUp = !bulk.sortUp;
    else {
      bulk.sortKey = key;
      bulk.sortUp = true;
    }
    renderBulkTable();
  }

  async function downloadReport(kind) {
    try {
      const response = await fetch(`/api/v1/verify/batch/report?format=${kind}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ results: bulk.results }),
      });
      if (!response.ok) throw new Error(String(response.status));
      saveBlob(await response.blob(), `skillpass-report.${kind}`);
    } catch {
      bulk.error = { local: "networkError" };
      renderBulk();
    }
  }

  function saveBlob(blob, name) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
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
    const noCode = outcome.verdict?.outcome === "unrecognized" && outcome.verdict.code === "qr_not_found";
    if (noCode || outcome.error?.local === "networkError") {
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

  // A URL-form QR opens this page as HTTPS://HOST/#SP2.… (any case): the credential is in the fragment, which
  // the browser never sends to any server. The whole address goes to the service, so it can say
  // whether this host is an official verifier.
  function credentialFromAddress() {
    if (!window.location.hash.startsWith(FRAGMENT_PREFIX)) return null;
    return `${window.location.origin}/${window.location.hash}`;
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
    el("print").addEventListener("click", () => window.print());
    el("bulk-input").addEventListener("change", (event) => {
      const files = [...(event.target.files ?? [])];
      runBatch(files).finally(() => {
        event.target.value = "";
      });
    });
    el("bulk-xlsx").addEventListener("click", () => downloadReport("xlsx"));
    el("bulk-csv").addEventListener("click", () => downloadReport("csv"));
    el("bulk-receipt").addEventListener("click", () => {
      if (bulk.receipt) saveBlob(new Blob([bulk.receipt], { type: "application/jose" }), "skillpass-receipt.jws");
    });
    for (const id of ["holder-name", "holder-id"]) {
      el(id).addEventListener("input", () => {
        const filled = [el("holder-name").value.trim(), el("holder-id").value.trim()].filter(Boolean).length;
        if (state.holderError && filled !== 1) showHolderError(null);
      });
    }
    el("paste-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) onPasteSubmit();
    });
    applyLanguage();
    loadTrust();
    const fromAddress = credentialFromAddress();
    if (fromAddress) runVerification(() => verifyText(fromAddress));
    document.body.dataset.ready = "true";
  }

  init();
})();
