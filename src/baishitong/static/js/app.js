/* 百事通 · 前端小工具（渐进增强：无 JS 时页面照常可用）
 *
 *  1. 时限倒计时：<span class="deadline" data-deadline="2024-05-01T18:00:00+08:00">
 *     → 加上 deadline-ok / deadline-warn / deadline-over，文字 “剩余2天3小时” / “已超时5小时”。
 *     可选属性：data-warn-hours（默认 24，剩余不足即为琥珀色）、data-done（已办结：不再倒计时）。
 *  2. 快捷键：<a data-hotkey="n"> / <button data-hotkey="ctrl+enter"> / <input data-hotkey="/">
 *     输入框内只响应带 ctrl/alt/meta 的组合键；按 “?” 显示快捷键列表。
 *  3. 确认框：<button data-confirm="确定要退回该工单吗？">、<form data-confirm="...">。
 *  4. htmx 请求自动带上 <meta name="csrf-token"> 的值（请求头 X-CSRF-Token）；
 *     目标为对话记录（.chat-log）的请求另带 after=最后一条消息的编号，服务器只返回其后的新消息（追加，不重绘整段记录）。
 *     另带 view=本次查看对话的随机编号（每次发出离开信号后换新）：关闭时已在途中的轮询不算“市民已回到对话”。
 *  5. 小功能：带 maxlength 且有 data-count 的 textarea 显示字数（data-count="quiet" 时不朗读）；提示消息可关闭。
 *  6. 草稿：工单操作表单（form[data-action-form]）提交失败（如 409 他人已更新）回到页面时，
 *     填过的文字自动恢复并展开该表单，不必重打。
 *  7. 常用答复语：<div data-phrase-picker hidden> 里的 <select data-phrase-insert="文本框 id">，
 *     选项的 data-body 为正文；选中即插入到文本框光标处（未点过文本框则另起一行接在末尾），已输入的文字保留。
 *     类案参考的 <button data-quote-into="文本框 id" data-quote-text="…"> 同样插入（本页没有该文本框时隐藏）。
 *  8. “问政务君”浮动按钮（.chat-fab）：页面滚动时收起，停下后只在不遮挡文字和可点元素的位置出现
 *     （滚到页尾总会出现，页脚为它留了位置）；对话框打开时保持不动。无 JS 时按钮一直显示。
 *     打开的对话框（#chat-panel）：显示最新消息，焦点移入提问框（可直接输入），Esc、× 或再点按钮关闭并把焦点还给按钮（aria-expanded 随之变化）；
 *     提问后显示新问题和回答的开头（回答较长时不直接滚到末尾）；用键盘点选的推荐问题随新回答换掉后，焦点移到新回答上（不回到页首）。
 *     人工客服接待中（或等待接入）时关闭对话框或离开页面，发出 navigator.sendBeacon（/assistant/leave），客服那边显示“市民已离开对话”。
 *  9. 长表单（话务受理台）：<form data-enter-stays> 单行输入框里单按回车不提交（Ctrl/⌘+Enter 和按钮照常）；
 *     <form data-keep-draft> 填写的内容随时存入本标签页，重新打开（刷新、页面过期后返回）时恢复，
 *     提交成功（页面出现成功提示）后清除；<a data-discards="表单 id"> 离开前若已填写则先确认，并清除草稿。
 * 10. 对话框（问政务君）：<form data-enter-sends> 的文本框里按回车发送，Shift+回车换行（输入法选字时的回车不算）。
 * 11. 随页面送来的提示消息（#flash，如“已受理”“已签收”、操作被拒）在页面就绪后由读屏软件读出（另设的隐藏 live 区域）。
 * 12. 页面不含内联脚本（内容安全策略只许本站脚本文件）：<form data-reset-after-send> 经 htmx 发送成功后清空，
 *     值为 "refocus" 时若焦点原在表单内则回到其 text 文本框；另带 data-keeps-refused 的表单被拒（409、422）时照样换入
 *     服务器的说明，已输入的文字保留；在线咨询轮询发现同事已接待、回复框被换掉时，已输入的文字移到“您未发送的回复（可复制）”；
 *     #geo-button（网点查询）在浏览器能提供位置时显示，点按即按位置查询。
 * 13. 上传前检查：<input type="file" data-max-files="3" data-max-mb="5">（可选 data-noun="附件"、data-unit="个"）选中的文件
 *     过多或过大时，浏览器当场提示（与服务器相同的措辞），表单不提交（novalidate 的表单也不提交），已填写的文字不丢；服务器照样再查一遍。
 *     已选了文件时，带 data-missing="提示" 的必填项（可加 data-min-length）未填、复选框未勾也先当场提示，免得照片白传一遍又要重选。
 *     带 data-invalid-phone="提示" 的电话框填了但不是服务器认的号码（手机或带区号的固定电话，全角数字、+86、空格横线括号照收）也先提示。
 * 14. 问政务君：对话状态（#…-status，转人工、客服接入或交回时换入）的 data-question-placeholder 换到同一对话的提问框
 *     （#…-question）上，提示文字随之说明是在问政务君还是在对人工客服说话；已输入的文字不动。
 *     提问、转人工或评价没有发出（断网）或被拒（过于频繁、页面过期、超过 500 字）时，对话记录里说明原因（轮询失败不提示），问题留在输入框里可再发送。
 */
(function () {
  "use strict";

  var WARN_HOURS_DEFAULT = 24;

  /* ---------- 1. 时限倒计时 ---------- */
  function parseISO(s) {
    if (!s) return null;
    var t = Date.parse(s);
    if (isNaN(t)) {
      // 兼容 “2024-05-01 18:00:00” 这类空格分隔写法
      t = Date.parse(String(s).replace(" ", "T"));
    }
    return isNaN(t) ? null : t;
  }

  function fmtDuration(ms) {
    var mins = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(mins / 1440);
    var h = Math.floor((mins % 1440) / 60);
    var m = mins % 60;
    if (d > 0) return d + "天" + (h > 0 ? h + "小时" : "");
    if (h > 0) return h + "小时" + (m > 0 ? m + "分" : "");
    return Math.max(m, 1) + "分钟";
  }

  function fmtAbs(t) {
    var d = new Date(t);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function renderDeadline(el, now) {
    var t = parseISO(el.getAttribute("data-deadline"));
    if (t === null) return;
    var textEl = el.querySelector(".deadline-text") || el;
    el.classList.remove("deadline-ok", "deadline-warn", "deadline-over", "deadline-done");
    if (!el.hasAttribute("title")) el.setAttribute("title", "办理时限：" + fmtAbs(t));
    if (el.hasAttribute("data-done")) {
      el.classList.add("deadline-done");
      return;
    }
    var diff = t - now;
    var warnH = parseFloat(el.getAttribute("data-warn-hours"));
    if (isNaN(warnH)) warnH = WARN_HOURS_DEFAULT;
    var text;
    if (diff < 0) {
      el.classList.add("deadline-over");
      text = "已超时" + fmtDuration(diff);
    } else {
      el.classList.add(diff <= warnH * 3600000 ? "deadline-warn" : "deadline-ok");
      text = "剩余" + fmtDuration(diff);
    }
    textEl.textContent = text;
  }

  function renderDeadlines(root) {
    var now = Date.now();
    var els = (root || document).querySelectorAll("[data-deadline]");
    for (var i = 0; i < els.length; i++) renderDeadline(els[i], now);
  }

  /* ---------- 2. 快捷键 ---------- */
  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function normCombo(s) {
    var parts = String(s).toLowerCase().replace(/\s+/g, "").split("+");
    var key = parts.pop();
    if (key === "") key = "+";
    var mods = parts.filter(function (p) { return p; }).map(function (p) {
      return p === "cmd" || p === "command" ? "meta" : p === "control" ? "ctrl" : p === "option" ? "alt" : p;
    }).sort();
    return mods.concat([key]).join("+");
  }

  function eventCombo(e) {
    var key = (e.key || "").toLowerCase();
    if (key === " ") key = "space";
    if (key === "esc") key = "escape";
    var mods = [];
    if (e.altKey) mods.push("alt");
    if (e.ctrlKey) mods.push("ctrl");
    if (e.metaKey) mods.push("meta");
    // shift 只对非字符键有意义（“?”、“A” 已体现在 key 本身）
    if (e.shiftKey && key.length > 1) mods.push("shift");
    return mods.sort().concat([key]).join("+");
  }

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function hotkeyElements() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-hotkey]"), function (el) {
      return !el.disabled && visible(el);
    });
  }

  function describe(el) {
    return el.getAttribute("data-hotkey-label") || el.getAttribute("aria-label") || el.getAttribute("title") ||
      (el.labels && el.labels[0] && el.labels[0].textContent) || textWithoutHints(el) || el.getAttribute("placeholder") || "";
  }

  function textWithoutHints(el) {
    var c = el.cloneNode(true);
    var hints = c.querySelectorAll ? c.querySelectorAll(".hotkey-hint") : [];
    for (var i = 0; i < hints.length; i++) hints[i].remove();
    return c.textContent;
  }

  function decorateHotkeys(root) {
    var els = (root || document).querySelectorAll("[data-hotkey]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.hasAttribute("aria-keyshortcuts")) {
        el.setAttribute("aria-keyshortcuts", String(el.getAttribute("data-hotkey")).split(/\s*,\s*/).map(function (c) {
          return c.split("+").map(keyName).join("+");
        }).join(" "));
      }
    }
  }

  // A key as the page's own hints write it: N, Ctrl, Enter (data-hotkey is lower case).
  function keyName(k) { return k.length === 1 ? k.toUpperCase() : k.charAt(0).toUpperCase() + k.slice(1); }

  var hotkeyDialog = null;
  function showHotkeyHelp() {
    var els = hotkeyElements();
    if (!els.length || typeof HTMLDialogElement === "undefined") return;
    if (!hotkeyDialog) {
      hotkeyDialog = document.createElement("dialog");
      hotkeyDialog.className = "hotkey-dialog";
      hotkeyDialog.setAttribute("aria-labelledby", "hotkey-dialog-title");
      document.body.appendChild(hotkeyDialog);
    }
    var html = '<div class="card-header"><h2 class="card-title" id="hotkey-dialog-title">键盘快捷键</h2>' +
      '<form method="dialog"><button class="btn btn-ghost btn-sm" type="submit">关闭</button></form></div><ul>';
    els.forEach(function (el) {
      var keys = String(el.getAttribute("data-hotkey")).split(/\s*,\s*/).map(function (c) {
        return c.split("+").map(function (k) { return "<kbd>" + escapeHtml(keyName(k)) + "</kbd>"; }).join("+");
      }).join(" ");
      html += "<li><span>" + escapeHtml(describe(el).trim().replace(/\s+/g, " ").slice(0, 40)) + "</span><span>" + keys + "</span></li>";
    });
    html += '<li><span>显示本帮助</span><span><kbd>?</kbd></span></li></ul>';
    hotkeyDialog.innerHTML = html;
    hotkeyDialog.showModal();
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function onKeydown(e) {
    if (e.defaultPrevented || e.isComposing || e.keyCode === 229) return; // 输入法组字中
    var combo = eventCombo(e);
    var typing = isTyping(e.target);
    var hasMod = e.ctrlKey || e.altKey || e.metaKey;
    if (typing && !hasMod) {
      if (combo === "escape" && e.target.blur) e.target.blur();
      return;
    }
    if (!typing && combo === "?") {
      e.preventDefault();
      showHotkeyHelp();
      return;
    }
    var els = hotkeyElements();
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var combos = String(el.getAttribute("data-hotkey")).split(/\s*,\s*/).map(normCombo);
      if (combos.indexOf(combo) === -1) continue;
      // 在输入框内按 ctrl+enter 等：只触发与当前表单相关的元素
      if (typing && el.form && e.target.form && el.form !== e.target.form) continue;
      e.preventDefault();
      if (isTyping(el)) {
        el.focus();
        if (el.select && el.type !== "select-one") el.select();
      } else {
        el.focus();
        el.click();
      }
      return;
    }
  }

  /* ---------- 3. 确认框 ---------- */
  function askConfirm(el, e) {
    var msg = el.getAttribute("data-confirm");
    if (!msg) return true;
    if (window.confirm(msg)) return true;
    e.preventDefault();
    e.stopImmediatePropagation();
    return false;
  }

  function onClickCapture(e) {
    var el = e.target.closest && e.target.closest("[data-confirm]");
    if (!el || el.tagName === "FORM") return;
    askConfirm(el, e);
  }

  function onSubmitCapture(e) {
    var form = e.target;
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-confirm")) return;
    // 已经由提交按钮上的 data-confirm 确认过，则不重复询问
    var submitter = e.submitter;
    if (submitter && submitter.hasAttribute("data-confirm")) return;
    askConfirm(form, e);
  }

  // A double click sends a form twice, and an append-only action (催办, 办理进展) would then be recorded and
  // texted twice. A page's POST form goes once; the flag is dropped when the page is shown again from the
  // back/forward cache. htmx forms are left to htmx.
  function onSubmitOnce(e) {
    var form = e.target;
    if (e.defaultPrevented || !form || form.tagName !== "FORM" || (form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    if (form.hasAttribute("data-submitting")) {
      e.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "");
  }

  function onPageShowForgetSubmits() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submitting]"), function (form) { form.removeAttribute("data-submitting"); });
  }

  /* ---------- 4. htmx CSRF ---------- */
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function onHtmxConfigRequest(e) {
    var token = csrfToken();
    if (token && e.detail && e.detail.headers) e.detail.headers["X-CSRF-Token"] = token;
    // 问政务君: whatever appends to a chat log says which message it shows last, so only newer ones come back.
    var log = e.detail && e.detail.target;
    if (log && log.matches && log.matches(".chat-log")) {
      var shown = log.querySelectorAll(".msg[id*='-turn-']");
      if (shown.length) e.detail.parameters.after = shown[shown.length - 1].id.split("-turn-").pop();
      e.detail.parameters.view = chatView;
    }
  }

  // This view of the chat, sent with its polls, questions and leave beacon: a poll already on its way when the
  // chat closed reaches the server after the beacon, and is then no return (市民已回到对话). A new one after each
  // beacon, so the same page's next poll (the widget opened again, the page back from the back/forward cache) is.
  function newChatView() {
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  var chatView = newChatView();

  /* ---------- 5. 小功能 ---------- */
  function initCounters(root) {
    var els = (root || document).querySelectorAll("textarea[data-count][maxlength]");
    Array.prototype.forEach.call(els, function (ta) {
      if (ta._bstCounter) return;
      var out = document.createElement("div");
      out.className = "char-count";
      // data-count="quiet" (问政务君, whose log is the one live region): shown, not read out at each keystroke.
      if (ta.getAttribute("data-count") !== "quiet") out.setAttribute("aria-live", "polite");
      ta.insertAdjacentElement("afterend", out);
      ta._bstCounter = out;
      var max = parseInt(ta.getAttribute("maxlength"), 10);
      var update = function () {
        var n = ta.value.length;
        out.textContent = n + " / " + max + " 字";
        out.classList.toggle("over", n >= max);
      };
      ta.addEventListener("input", update);
      update();
    });
  }

  function initDismiss(root) {
    var els = (root || document).querySelectorAll(".flash-region .alert:not([data-no-dismiss])");
    Array.prototype.forEach.call(els, function (al) {
      if (al.querySelector(".alert-close")) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "alert-close";
      b.setAttribute("aria-label", "关闭提示");
      b.innerHTML = "&times;";
      b.addEventListener("click", function () { al.remove(); });
      al.appendChild(b);
    });
  }

  /* 填入文本：<button data-fill="#target" data-fill-text="…" data-fill-after="answer">（同时选中 name=after 的对应单选项） */
  function onFillClick(e) {
    var btn = e.target.closest && e.target.closest("[data-fill]");
    if (!btn) return;
    var target = document.querySelector(btn.getAttribute("data-fill"));
    if (!target) return;
    target.value = btn.getAttribute("data-fill-text") || "";
    target.dispatchEvent(new Event("input", { bubbles: true }));
    var after = btn.getAttribute("data-fill-after");
    var radio = after && document.querySelector('input[name="after"][value="' + after + '"]');
    if (radio) radio.checked = true;
    target.focus();
  }

  /* ---------- 6. 失败后恢复草稿 ---------- */
  // A failed action comes back as a redirect with an error message; the text typed into the form is
  // kept in sessionStorage (this tab only) until the next page, and put back only if that page reports a failure.
  var DRAFT_PREFIX = "bst:draft:";

  function onSubmitSaveDraft(e) {
    var form = e.target;
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-action-form")) return;
    var values = {};
    Array.prototype.forEach.call(form.querySelectorAll("textarea[name], input[type=text][name], input[type=number][name]"), function (el) {
      if (el.value) values[el.name] = el.value;
    });
    try { sessionStorage.setItem(DRAFT_PREFIX + form.getAttribute("action"), JSON.stringify(values)); } catch (err) { /* storage off: nothing to keep */ }
  }

  function restoreDrafts() {
    var keys = [];
    try {
      for (var i = 0; i < sessionStorage.length; i++) {
        if (sessionStorage.key(i).indexOf(DRAFT_PREFIX) === 0) keys.push(sessionStorage.key(i));
      }
    } catch (err) { return; }
    var failed = document.querySelector("#flash .alert-error");
    keys.forEach(function (key) {
      var raw = sessionStorage.getItem(key);
      sessionStorage.removeItem(key);
      if (!failed) return;
      var values = JSON.parse(raw || "{}");
      var form = document.querySelector('form[data-action-form][action="' + key.slice(DRAFT_PREFIX.length) + '"]');
      if (!form) {
        // The action is no longer offered (a colleague replied first): still show what was typed, to copy.
        var typed = Object.keys(values).map(function (name) { return values[name]; }).filter(Boolean).join("\n");
        // The page came back with it shown already (a refusal answered with the order page, web.ticket.refused_page).
        if (!typed || document.querySelector(".draft-kept")) return;
        var keep = document.createElement("div");
        keep.className = "alert alert-info draft-kept";
        var title = document.createElement("div");
        title.className = "alert-body";
        title.textContent = "您刚才填写的内容（未提交）：";
        var text = document.createElement("p");
        text.className = "pre-line";
        text.textContent = typed;
        keep.appendChild(title);
        keep.appendChild(text);
        failed.parentNode.insertBefore(keep, failed.nextSibling);
        return;
      }
      Object.keys(values).forEach(function (name) {
        var el = form.querySelector('[name="' + name + '"]');
        if (!el) return;
        el.value = values[name];
        el.dispatchEvent(new Event("input", { bubbles: true }));
      });
      var details = form.closest("details");
      if (details) details.open = true;
    });
  }

  /* ---------- 7. 常用答复语 ---------- */
  function initPhrasePickers(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-phrase-picker][hidden]"), function (el) { el.hidden = false; });
  }

  // Until the handler has been in the textarea its caret sits at the start, which is not where they meant.
  function onTextareaFocus(e) {
    if (e.target && e.target.tagName === "TEXTAREA") e.target._bstCaretSet = true;
  }

  // At the end of what was typed the text starts a new line; inside the text it goes exactly at the caret.
  function insertIntoTextarea(ta, text) {
    var value = ta.value;
    var start = ta._bstCaretSet ? ta.selectionStart : value.length;
    var end = ta._bstCaretSet ? ta.selectionEnd : value.length;
    var before = value.slice(0, start);
    if (end === value.length && before && !/\n$/.test(before)) text = "\n" + text;
    ta.value = before + text + value.slice(end);
    var caret = before.length + text.length;
    ta.focus();
    ta.setSelectionRange(caret, caret);
    ta.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function onPhraseChange(e) {
    var select = e.target;
    if (!select || select.tagName !== "SELECT" || !select.hasAttribute("data-phrase-insert")) return;
    var option = select.options[select.selectedIndex];
    var text = option && option.getAttribute("data-body");
    var ta = document.getElementById(select.getAttribute("data-phrase-insert"));
    select.selectedIndex = 0;
    if (text && ta) insertIntoTextarea(ta, text);
  }

  // 类案参考: "引用此答复" puts a past reply into this order's reply form, opening the form if it is folded.
  function initQuoteButtons(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-quote-into]"), function (b) {
      b.hidden = !document.getElementById(b.getAttribute("data-quote-into"));
    });
  }

  function onQuoteClick(e) {
    var b = e.target && e.target.closest ? e.target.closest("[data-quote-into]") : null;
    if (!b) return;
    var ta = document.getElementById(b.getAttribute("data-quote-into"));
    if (!ta) return;
    var details = ta.closest("details");
    if (details) details.open = true;
    insertIntoTextarea(ta, b.getAttribute("data-quote-text") || "");
  }

  /* ---------- 8. 问政务君 浮动按钮 ---------- */
  // A floating button hides whatever lies under it, and mid-page that is often a link or a line of text.
  // So it is tucked away the moment the page scrolls (no fade: not one frame covers the content) and,
  // once scrolling has stopped, fades back only where nothing readable or tappable lies under it.
  var FAB_REST_MS = 250;
  var FAB_CLEARANCE = 4;
  var FAB_OBSTACLES = "a[href], button, input:not([type=hidden]), select, textarea, summary, label, [tabindex]:not([tabindex='-1'])";

  function overlaps(r, box) {
    return r.width > 0 && r.height > 0 && r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
  }

  function ignoredByFab(el) {
    return !el || !!el.closest(".chat-fab, .chat-panel, script, style");
  }

  // The tucked button only fades (opacity), so its box is where it would show.
  function fabCoversSomething(fab) {
    var r = fab.getBoundingClientRect();
    var box = { left: r.left - FAB_CLEARANCE, right: r.right + FAB_CLEARANCE, top: r.top - FAB_CLEARANCE, bottom: r.bottom + FAB_CLEARANCE };
    var els = document.querySelectorAll(FAB_OBSTACLES);
    for (var i = 0; i < els.length; i++) {
      if (!ignoredByFab(els[i]) && overlaps(els[i].getBoundingClientRect(), box)) return true;
    }
    var range = document.createRange();
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || ignoredByFab(node.parentElement)) continue;
      range.selectNodeContents(node);
      var rects = range.getClientRects();
      for (var j = 0; j < rects.length; j++) if (overlaps(rects[j], box)) return true;
    }
    return false;
  }

  function initChatFab() {
    var fab = document.querySelector(".chat-fab");
    if (!fab) return;
    var panel = document.getElementById("chat-panel");
    var timer = null;
    var panelOpen = function () { return !!(panel && panel.firstElementChild); };
    var place = function () {
      timer = null;
      fab.classList.toggle("is-tucked", !panelOpen() && fabCoversSomething(fab));
    };
    var tuck = function () {
      if (panelOpen()) return;
      fab.classList.add("is-tucked");
      clearTimeout(timer);
      timer = setTimeout(place, FAB_REST_MS);
    };
    window.addEventListener("scroll", tuck, { passive: true });
    window.addEventListener("resize", tuck);
    // Content that grows or moves without a scroll (images, htmx, an opened <details>), and the panel closing.
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(function () { if (!timer) place(); }).observe(document.body);
    if (panel && typeof MutationObserver !== "undefined") new MutationObserver(place).observe(panel, { childList: true });
    place();
  }

  /* ---------- 9. 长表单：回车不提交、草稿保留 ---------- */
  // An operator presses Enter out of habit mid-call; the browser would then register (and dispatch) a
  // half-taken call. Only a one-line field submits on Enter, so that is the one to stop.
  function onEnterStays(e) {
    if (e.key !== "Enter" || e.ctrlKey || e.metaKey || e.isComposing || e.keyCode === 229) return;
    var el = e.target;
    if (el && el.tagName === "INPUT" && el.form && el.form.hasAttribute("data-enter-stays")) e.preventDefault();
  }

  function onEnterSends(e) {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.isComposing || e.keyCode === 229) return;
    var el = e.target;
    if (!el || el.tagName !== "TEXTAREA" || !el.form || !el.form.hasAttribute("data-enter-sends")) return;
    e.preventDefault();
    if (el.value.trim()) el.form.requestSubmit();
  }

  // Kept under its own prefix: restoreDrafts() drops every "bst:draft:" entry on the next page.
  var KEPT_PREFIX = "bst:kept:";

  function keptKey(form) { return KEPT_PREFIX + form.getAttribute("action"); }

  // The idempotency key is left out: a restored call is sent under the new page's key.
  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      // Chosen files cannot be put back (a file input's value cannot be set), so they are not kept.
      return el.name && el.type !== "hidden" && el.type !== "submit" && el.type !== "button" && el.type !== "file";
    });
  }

  function isTextField(el) {
    return el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "checkbox" && el.type !== "radio");
  }

  function hasTyped(form) {
    return keptFields(form).some(function (el) { return isTextField(el) && el.value.trim(); });
  }

  function onKeptInput(e) {
    var t = e.target;
    var form = t && (t.tagName === "FORM" ? t : t.form);
    if (!form || !form.hasAttribute("data-keep-draft")) return;
    var values = {};
    keptFields(form).forEach(function (el) {
      if (el.type === "checkbox") values[el.name] = el.checked;
      else if (el.type === "select-multiple") values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      else if (el.type !== "radio") values[el.name] = el.value;
      else if (el.checked) values[el.name] = el.value;
    });
    try { sessionStorage.setItem(keptKey(form), JSON.stringify(values)); } catch (err) { /* storage off: nothing to keep */ }
  }

  function restoreKept() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-keep-draft]"), function (form) {
      var raw = null;
      try { raw = sessionStorage.getItem(keptKey(form)); } catch (err) { return; }
      if (!raw) return;
      // Arriving with a success message: the form just went through, so its draft is done with.
      if (document.querySelector("#flash .alert-success")) {
        sessionStorage.removeItem(keptKey(form));
        return;
      }
      var values = JSON.parse(raw);
      var fields = keptFields(form);
      // What the server filled in (a refused form sent back, the number of a screen pop) must agree with the
      // draft; a different number is another call, and its page is not overwritten.
      var clash = fields.some(function (el) { return isTextField(el) && el.value && el.name in values && values[el.name] !== el.value; });
      if (clash) return;
      fields.forEach(function (el) {
        if (!(el.name in values)) return;
        if (el.type === "checkbox") el.checked = !!values[el.name];
        else if (el.type === "radio") el.checked = values[el.name] === el.value;
        else if (el.type === "select-multiple") Array.prototype.forEach.call(el.options, function (o) { o.selected = values[el.name].indexOf(o.value) !== -1; });
        else el.value = values[el.name];
      });
      // A restored field folded away (the console's 更多) is shown, so nothing sent is out of sight.
      fields.forEach(function (el) {
        var fold = el.closest("details");
        if (fold && (el.tagName === "SELECT" || isTextField(el)) && el.value.trim()) fold.open = true;
      });
      // Updates the character counts and the console's suggestion panel (htmx listens for input on the form,
      // but sets its listeners up only once the page has loaded: this runs before).
      if (window.htmx) window.htmx.process(form);
      fields.forEach(function (el) { if (el.tagName === "TEXTAREA") el.dispatchEvent(new Event("input", { bubbles: true })); });
    });
  }

  // Signing out ends what this tab kept: the next person to sign in here must not find the last caller's call.
  function onLogoutForget(e) {
    if (!e.target.matches || !e.target.matches('form[action="/staff/logout"]')) return;
    try {
      Object.keys(sessionStorage).forEach(function (key) { if (key.indexOf(KEPT_PREFIX) === 0) sessionStorage.removeItem(key); });
    } catch (err) { /* storage off: nothing kept */ }
  }

  function onDiscardClick(e) {
    var link = e.target.closest && e.target.closest("[data-discards]");
    var form = link && document.getElementById(link.getAttribute("data-discards"));
    if (!form) return;
    if (hasTyped(form) && !window.confirm("已填写的内容还没有提交，确定放弃吗？")) {
      e.preventDefault();
      e.stopImmediatePropagation();
      return;
    }
    try { sessionStorage.removeItem(keptKey(form)); } catch (err) { /* storage off: nothing kept */ }
  }

  // The panel is a non-modal dialog: opening it moves focus to its question box, and Esc, × or the button again closes it
  // and gives focus back to the button, which says whether it is open.
  function chatPanelOpen() {
    var panel = document.getElementById("chat-panel");
    return !!(panel && panel.firstElementChild);
  }

  // Closing the chat while a person has it (waiting or talking) tells the operator 市民已离开对话, so they stop
  // waiting; the conversation stays theirs, and the citizen who opens the chat again writes on.
  function chatLeaveBeacon(root) {
    if (!root.querySelector("[hx-get^='/assistant/live']") || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("view", chatView);
    navigator.sendBeacon("/assistant/leave", data);
    chatView = newChatView();
  }

  function onPageHideLeaveChat() {
    chatLeaveBeacon(document);
  }

  function closeChatPanel() {
    var fab = document.querySelector(".chat-fab");
    chatLeaveBeacon(document.getElementById("chat-panel"));
    document.getElementById("chat-panel").innerHTML = "";
    if (fab) {
      fab.setAttribute("aria-expanded", "false");
      fab.focus();
    }
  }

  function onChatClickCapture(e) {
    var el = e.target.closest && e.target.closest(".chat-fab, .chat-panel-close");
    if (!el || !chatPanelOpen()) return;
    // Before htmx sees it: a second tap on the button closes the panel instead of loading it again.
    e.preventDefault();
    e.stopPropagation();
    closeChatPanel();
  }

  function onChatKeydownCapture(e) {
    if (e.key !== "Escape" || e.isComposing || !chatPanelOpen()) return;
    var active = document.activeElement;
    if (!document.getElementById("chat-panel").contains(active) && !(active && active.matches(".chat-fab"))) return;
    e.preventDefault();
    closeChatPanel();
  }

  // After a question the log gets the question and its answer: show the question and the start of the
  // answer; only when both fit is the end shown (scrolling to the end hides the start of a long answer).
  var chatLogEnd = null;

  function onChatBeforeSwap(e) {
    var target = e.detail.target;
    if (target && target.matches && target.matches(".chat-log")) chatLogEnd = target.lastElementChild;
  }

  // A question that could not go out (no network) or was refused (too many, a page too old) showed nothing at
  // all: the log says why, and the question stays in the box to send again. Only what the citizen sent (a
  // form), not the 5 s poll, which simply tries again.
  // The question box posts to the log; 转人工 and 有帮助/没帮助 are forms inside it.
  var CHAT_LOGS = "#chat-log, #chat-panel-log";
  var CHAT_FAILED = {
    0: "网络连接失败，没有发出，请检查网络后再试。",
    403: "页面已过期，请刷新页面后再试。",
    429: "操作过于频繁，请稍等一分钟再试。"
  };

  function onChatRequestDone(e) {
    var target = e.detail.target, elt = e.detail.elt;
    if (!target || !target.matches || !elt || !elt.closest || !elt.closest("form")) return;
    // The citizen's log, on the page or in the widget (the staff chat's refusals come from the server).
    var log = target.matches(CHAT_LOGS) ? target : elt.closest(CHAT_LOGS);
    if (!log) return;
    Array.prototype.forEach.call(log.querySelectorAll(".chat-failed"), function (old) { old.remove(); });
    if (e.detail.successful) return;
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    var note = document.createElement("p");
    note.className = "muted chat-failed";
    note.textContent = CHAT_FAILED[status] || "政务君暂时无法处理，请稍后再试，或拨打 12345 热线。";
    // Refused (422, e.g. over 500 characters): the server's note says why.
    var said = status === 422 ? new DOMParser().parseFromString(e.detail.xhr.responseText || "", "text/html").body.textContent.trim() : "";
    if (said) note.textContent = said;
    // Too many: the server says in how many seconds it would take the question (Retry-After), so the note does too.
    var wait = status === 429 ? parseInt(e.detail.xhr.getResponseHeader("Retry-After"), 10) : 0;
    if (wait > 0) note.textContent = "操作过于频繁，请 " + (wait >= 60 ? "1 分钟" : wait + " 秒") + "后再试。";
    log.appendChild(note);  // the log is a live region: the note is read out
    note.scrollIntoView({ block: "nearest" });
  }

  function onChatAfterSwap(e) {
    var target = e.detail.target;
    if (!target || !target.matches) return;
    if (target.id === "chat-panel" && target.firstElementChild) {
      var fab = document.querySelector(".chat-fab");
      if (fab) fab.setAttribute("aria-expanded", "true");
      initCounters(target);  // now rather than once settled, so the count's line is there before the scroll
      var body = target.querySelector(".chat-panel-body");
      if (body) body.scrollTop = body.scrollHeight;  // opens at the latest message
      // Into the question box, so the citizen types at once; being inside the dialog, it is announced with it.
      var question = target.querySelector("textarea") || target.firstElementChild;
      question.focus({ preventScroll: true });
      return;
    }
    // Once for the log itself; the out-of-band swap of the next questions reports the same target.
    if (e.target !== target || !target.matches(".chat-log")) return;
    var first = chatLogEnd ? chatLogEnd.nextElementSibling : target.firstElementChild;
    var last = target.lastElementChild;
    chatLogEnd = null;
    if (!first || !last) return;
    last.scrollIntoView({ block: "nearest" });
    var box = target.closest(".chat-panel-body");
    var nav = document.querySelector(".site-nav");
    var top = box ? box.getBoundingClientRect().top : Math.max(0, nav ? nav.getBoundingClientRect().bottom : 0);
    if (first.getBoundingClientRect().top < top) first.scrollIntoView({ block: "start" });
    // A next question chosen from the keyboard went with the chips it was among: the focus goes on to the answer it
    // brought rather than back to the top of the page, where Tab starts over and Esc no longer closes the panel.
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    for (var answer = last; answer && answer !== first.previousElementSibling; answer = answer.previousElementSibling) {
      if (!answer.matches(".msg-bot")) continue;
      answer.setAttribute("tabindex", "-1");
      answer.focus({ preventScroll: true });
      return;
    }
  }

  /* ---------- 14. 问政务君提问框的提示文字 ---------- */
  // The status note is redrawn when a person takes the chat or hands it back; the question box is not (it may
  // hold a half-typed message), so only its placeholder follows.
  function syncQuestionPlaceholders(root) {
    var notes = Array.prototype.slice.call(root.querySelectorAll("[data-question-placeholder]"));
    if (root.matches && root.matches("[data-question-placeholder]")) notes.push(root);
    notes.forEach(function (note) {
      var box = document.getElementById(note.id.replace(/-status$/, "-question"));
      if (box) box.placeholder = note.getAttribute("data-question-placeholder");
    });
  }

  function init(root) {
    renderDeadlines(root);
    syncQuestionPlaceholders(root);
    decorateHotkeys(root);
    initCounters(root);
    initDismiss(root);
    initPhrasePickers(root);
    initQuoteButtons(root);
    if (root === document) {
      restoreDrafts();
      restoreKept();
    }
  }

  /* ---------- 11. 提示消息朗读 ---------- */
  // Screen readers announce what changes in a live region, not what it held when the page loaded, so the outcome
  // of the action that led here (已受理, 已签收, a refusal) would go unread: its text is put into a hidden live
  // region once the page has settled. A landing the page focuses (#fragment) is read with the focus already.
  function announceFlash() {
    var region = document.getElementById("flash");
    var text = region ? Array.prototype.map.call(region.querySelectorAll(".alert-body"), function (b) { return b.textContent.trim(); }).join(" ") : "";
    if (!text) return;
    var landing = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (landing && landing.contains(region)) return;
    var announcer = document.createElement("div");
    announcer.className = "sr-only";
    announcer.setAttribute("role", region.querySelector(".alert-error") ? "alert" : "status");
    document.body.appendChild(announcer);
    setTimeout(function () { announcer.textContent = text; }, 500);
  }

  /* ---------- 15. 落点显示整行 ---------- */
  // After an action on a list the page comes back to its outcome (#fragment) in the row acted on, under the form.
  // The browser puts that outcome at the top of the screen; on a phone, where a row stacks its fields, the order's
  // number and title were then scrolled off above it. The row is shown from its top, the outcome still in view.
  function showLandedRow() {
    var landing = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var row = landing && landing.closest("tr");
    if (!row || row === landing) return;
    var padding = parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0;
    var up = Math.max(row.getBoundingClientRect().top - padding, landing.getBoundingClientRect().bottom - window.innerHeight);
    if (up < 0) window.scrollBy(0, up);
  }

  /* ---------- 13. 上传前检查 ---------- */
  // The server refuses too many files or one over the limit too, but only once all of them have been sent.
  function onFilesChosen(e) {
    var input = e.target;
    if (!input || input.type !== "file" || !input.hasAttribute("data-max-files")) return;
    var max = parseInt(input.getAttribute("data-max-files"), 10);
    var maxMb = parseFloat(input.getAttribute("data-max-mb"));
    var noun = input.getAttribute("data-noun") || "附件";
    var message = "";
    if (input.files.length > max) {
      message = "最多上传 " + max + " " + (input.getAttribute("data-unit") || "个") + noun;
    } else {
      Array.prototype.some.call(input.files, function (file) {
        if (file.size <= maxMb * 1024 * 1024) return false;
        message = noun + "“" + file.name + "”超过 " + maxMb + " MB，请压缩后再上传";
        return true;
      });
    }
    input.setCustomValidity(message);
    if (message) input.reportValidity();
  }

  // A novalidate form (我要反映: its errors come back in a summary) would still send files already refused here.
  // With photos chosen, a field the server would refuse as missing (data-missing="its message", data-min-length)
  // is pointed out here: the refused form would come back without the photos, sent for nothing.
  function missingBeforeUpload(form) {
    var chosen = Array.prototype.some.call(form.querySelectorAll("input[type=file][data-max-files]"), function (f) { return f.files && f.files.length; });
    if (!chosen) return null;
    return Array.prototype.find.call(form.querySelectorAll("[data-missing]"), function (field) {
      var empty = field.type === "checkbox" ? !field.checked : field.value.trim().length < (parseInt(field.getAttribute("data-min-length"), 10) || 1);
      var wrong = !empty && field.hasAttribute("data-invalid-phone") && !isPhone(field.value);
      field.setCustomValidity(empty ? field.getAttribute("data-missing") : wrong ? field.getAttribute("data-invalid-phone") : "");
      return empty || wrong;
    }) || null;
  }

  // The server's rule (tickets/validation.normalise_phone): a mobile or a landline with its area code, as typed on a
  // Chinese keyboard too (１３８…, ＋８６, （０７５７）, spaces and dashes).
  function isPhone(value) {
    var digits = (value.normalize ? value.normalize("NFKC") : value).replace(/[\s\-()（）]/g, "");
    if (digits.indexOf("+86") === 0) digits = digits.slice(3);
    return /^1[3-9][0-9]{9}$/.test(digits) || /^0[0-9]{2,3}[0-9]{7,8}$/.test(digits);
  }

  function onMissingFixed(e) {  // and a phone corrected
    var field = e.target;
    if (field && field.hasAttribute && field.hasAttribute("data-missing")) field.setCustomValidity("");
  }

  function onSubmitCheckFiles(e) {
    var form = e.target;
    if (!form || form.tagName !== "FORM") return;
    var refused = form.querySelector("input[type=file][data-max-files]:invalid") || missingBeforeUpload(form);
    if (!refused) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    refused.reportValidity();
    refused.focus();
  }

  /* ---------- 12. 原内联脚本 ---------- */
  // A refused send (409 taken by a colleague, 422 nothing typed) from a form[data-keeps-refused]: its body says
  // why, so it is swapped in; htmx still counts it as failed, so the form below keeps the typed text.
  function onRefusedSwap(e) {
    var form = e.detail.requestConfig && e.detail.requestConfig.elt;
    var status = e.detail.xhr && e.detail.xhr.status;
    if (form && form.matches && form.matches("form[data-keeps-refused]") && (status === 409 || status === 422)) e.detail.shouldSwap = true;
  }

  // A colleague took the conversation: the staff chat's poll swaps the reply box (#chat-reply) for who serves the
  // citizen, and what the operator had typed moves to 您未发送的回复（可复制） instead of going with the box.
  function onReplyBoxTaken(e) {
    var typed = document.getElementById("f-text");
    if (!e.detail.target || e.detail.target.id !== "chat-reply" || !typed || !typed.value.trim()) return;
    var unsent = e.detail.fragment.querySelector("#f-unsent");
    if (!unsent) return;
    unsent.textContent = typed.value;
    unsent.closest(".form-row").hidden = false;
  }

  function onResetAfterSend(e) {
    var form = e.detail.elt;
    if (!e.detail.successful || !form.matches || !form.matches("form[data-reset-after-send]")) return;
    var refocus = form.getAttribute("data-reset-after-send") === "refocus" && form.contains(document.activeElement);
    form.reset();
    // The character count goes back to 0 with the emptied box.
    Array.prototype.forEach.call(form.querySelectorAll("textarea[data-count]"), function (ta) { ta.dispatchEvent(new Event("input")); });
    if (refocus) form.elements.text.focus();
  }

  // Progressive: the button only appears when the browser can share its position.
  function initGeoButton() {
    var button = document.getElementById("geo-button");
    if (!button || !("geolocation" in navigator)) return;
    var status = document.getElementById("geo-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "正在获取您的位置…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        // Three decimals (about 100 m) find the nearest point; the exact position would stay in the URL, history and logs.
        document.getElementById("f-lat").value = pos.coords.latitude.toFixed(3);
        document.getElementById("f-lon").value = pos.coords.longitude.toFixed(3);
        document.getElementById("f-near").value = "";
        document.getElementById("points-form").submit();
      }, function () {
        status.textContent = "无法获取位置，请在上方输入社区或地址。";
      }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 300000});
    });
  }

  /* ---------- 启动 ---------- */
  document.addEventListener("keydown", onKeydown);
  document.addEventListener("keydown", onEnterStays);
  document.addEventListener("keydown", onEnterSends);
  document.addEventListener("click", onClickCapture, true);
  document.addEventListener("click", onFillClick);
  document.addEventListener("submit", onSubmitCapture, true);
  document.addEventListener("submit", onSubmitSaveDraft);
  document.addEventListener("input", onKeptInput);
  document.addEventListener("change", onKeptInput);
  document.addEventListener("submit", onKeptInput);
  document.addEventListener("submit", onLogoutForget);
  document.addEventListener("submit", onSubmitOnce);
  window.addEventListener("pageshow", onPageShowForgetSubmits);
  window.addEventListener("pagehide", onPageHideLeaveChat);
  document.addEventListener("click", onDiscardClick, true);
  document.addEventListener("focusin", onTextareaFocus);
  document.addEventListener("change", onPhraseChange);
  document.addEventListener("change", onFilesChosen);
  document.addEventListener("submit", onSubmitCheckFiles, true);
  document.addEventListener("input", onMissingFixed);
  document.addEventListener("change", onMissingFixed);
  document.addEventListener("click", onQuoteClick);
  document.addEventListener("htmx:configRequest", onHtmxConfigRequest);
  document.addEventListener("click", onChatClickCapture, true);
  document.addEventListener("keydown", onChatKeydownCapture, true);
  document.addEventListener("htmx:beforeSwap", onChatBeforeSwap);
  document.addEventListener("htmx:beforeSwap", onRefusedSwap);
  document.addEventListener("htmx:oobBeforeSwap", onReplyBoxTaken);
  document.addEventListener("htmx:afterSwap", onChatAfterSwap);
  document.addEventListener("htmx:afterRequest", onResetAfterSend);
  document.addEventListener("htmx:afterRequest", onChatRequestDone);
  // htmx 换入新内容后重新初始化（htmx:load 对每个新节点触发）
  document.addEventListener("htmx:load", function (e) { if (e.target && e.target.querySelectorAll) init(e.target); });

  var start = function () { init(document); initChatFab(); announceFlash(); initGeoButton(); };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // After the browser's own scroll to the #fragment, which it may redo until the page has loaded.
  window.addEventListener("load", function () { requestAnimationFrame(showLandedRow); });
  setInterval(function () { renderDeadlines(document); }, 30000);

  window.Baishitong = {
    renderDeadlines: renderDeadlines,
    formatDuration: fmtDuration,
    showHotkeyHelp: showHotkeyHelp,
    init: init
  };
})();
