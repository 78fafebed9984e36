// Repeatable rows and list items, and 大写金额 beside money inputs. No inline scripts (CSP).
(function () {
  "use strict";
  var DIGITS = "零壹贰叁肆伍陆柒捌玖", UNITS = ["", "拾", "佰", "仟"], BIG = ["", "万", "亿", "万亿"];
  function four(n) {
    var s = String(n).padStart(4, "0"), out = "", zero = false;
    for (var i = 0; i < 4; i++) {
      var d = +s[i];
      if (d === 0) { zero = out !== ""; continue; }
      if (zero) { out += "零"; zero = false; }
      out += DIGITS[d] + UNITS[3 - i];
    }
    return out;
  }
  // Mirrors rules/formatting.rmb_uppercase (the server is the authority; this is a typing aid).
  function uppercase(text, scale) {
    if (!/^\d+(\.\d{1,2})?$/.test(text)) return "";
    var parts = text.split("."), fen = BigInt(parts[0]) * 100n + BigInt(((parts[1] || "") + "00").slice(0, 2));
    fen = fen * BigInt(scale);
    var yuan = fen / 100n, jiao = Number((fen % 100n) / 10n), f = Number(fen % 10n), integer = "";
    if (yuan > 0n) {
      var groups = [], n = yuan;
      while (n > 0n) { groups.push(Number(n % 10000n)); n = n / 10000n; }
      var pending = false;
      for (var i = groups.length - 1; i >= 0; i--) {
        if (groups[i] === 0) { pending = integer !== ""; continue; }
        if (integer && (pending || groups[i] < 1000)) integer += "零";
        integer += four(groups[i]) + BIG[i]; pending = false;
      }
      integer += "元";
    }
    if (!jiao && !f) return (integer || "零元") + "整";
    return integer + (jiao ? DIGITS[jiao] + "角" : (integer ? "零" : "")) + (f ? DIGITS[f] + "分" : "");
  }
  function refreshMoney(input) {
    var span = document.querySelector('.uppercase[data-for="' + input.id + '"]');
    if (span) { var u = uppercase(input.value.trim().replace(/,/g, ""), 10000); span.textContent = u ? "大写：" + u : ""; }
  }
  document.addEventListener("input", function (e) { if (e.target.dataset && e.target.dataset.money) refreshMoney(e.target); });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-money]").forEach(refreshMoney);
    // Every file input gets a Chinese button and the chosen file's name: the browser's own
    // button speaks the browser's language (“Choose File”), not the page's.
    document.querySelectorAll("input[type=file]:not(.file-input)").forEach(function (input, i) {
      if (!input.id) input.id = "file-input-" + i;
      input.classList.add("file-input");
      input.dataset.empty = "未选择文件";
      var label = document.createElement("label");
      label.className = "button"; label.htmlFor = input.id; label.textContent = "选择文件";
      var name = document.createElement("span");
      name.className = "file-name"; name.setAttribute("aria-live", "polite"); name.textContent = "未选择文件";
      input.insertAdjacentElement("afterend", label);
      label.insertAdjacentElement("afterend", name);
    });
    // A table wider than its box scrolls inside it: keyboard users must reach it too (WCAG 2.1.1).
    document.querySelectorAll("table.list").forEach(function (t) {
      if (t.scrollWidth > t.clientWidth + 1 && !t.hasAttribute("tabindex")) t.setAttribute("tabindex", "0");
    });
    // The download menu is a row of buttons on a wide screen and a folded 下载 menu on a phone.
    var wide = window.matchMedia("(min-width: 701px)");
    function placeDownloads() { document.querySelectorAll("details.downloads").forEach(function (d) { d.open = wide.matches; }); }
    placeDownloads();
    wide.addEventListener("change", placeDownloads);
    // A refused form: the summary of its errors takes the focus, its links move it to each field.
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    // Unsaved edits: warn before leaving, unless the form itself is being sent.
    var form = document.querySelector("form.doc-form"), dirty = !!(form && form.dataset.unsaved);
    if (form) {
      form.addEventListener("input", function () {
        dirty = true;
        // Downloads were disabled for invalid data: editing it is the way back to them.
        form.querySelectorAll("button.download:disabled").forEach(function (b) { b.disabled = false; b.removeAttribute("title"); });
      });
      form.addEventListener("change", function () { dirty = true; });
      form.addEventListener("submit", function () { dirty = false; });
      window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
    }
  });
  // A button that destroys something asks first.
  document.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-confirm]");
    if (t && !window.confirm(t.dataset.confirm)) e.preventDefault();
  });
  // A styled file input: the chosen file's name in Chinese-labelled text, not the browser's own.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.classList || !input.classList.contains("file-input")) return;
    var label = input.parentElement.querySelector(".file-name");
    if (label) label.textContent = input.files.length ? input.files[0].name : input.dataset.empty;
  });
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    e.preventDefault();
    target.scrollIntoView({block: "center"});
    var focusable = target.matches("input, select, textarea") ? target : target.parentElement.querySelector("input, select, textarea");
    if (focusable) focusable.focus({preventScroll: true});
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.classList.contains("add-row")) {
      var fs = t.closest("fieldset"), tpl = fs.querySelector(":scope > template"), n = +t.dataset.next;
      var html = tpl.innerHTML.split("__index__").join(String(n));
      fs.querySelector(":scope > .rows").insertAdjacentHTML("beforeend", html);
      t.dataset.next = n + 1;
    } else if (t.classList.contains("remove-row")) {
      t.closest(".row").remove();
    } else if (t.classList.contains("add-item")) {
      var box = t.previousElementSibling, k = +t.dataset.next, div = document.createElement("div");
      div.className = "item";
      var input = document.createElement("input");
      input.type = "text"; input.name = t.dataset.name + "." + k;
      var rm = document.createElement("button");
      rm.type = "button"; rm.className = "remove-item"; rm.textContent = "删除";
      div.appendChild(input); div.appendChild(rm); box.appendChild(div);
      t.dataset.next = k + 1; input.focus();
    } else if (t.classList.contains("remove-item")) {
      t.closest(".item").remove();
    }
  });
})();
