// Indicator autocomplete (指标库): typing in a 三级指标 input marked data-autocomplete="indicator"
// suggests library entries; picking one fills the row's level1/level2/operator/target_value/
// measure_unit (and an empty explanation). The server is the authority on everything filled.
// No inline scripts (CSP); works for rows added later because events are delegated.
// The input is a WAI-ARIA 1.2 combobox (role, aria-expanded, aria-controls, aria-activedescendant):
// a screen reader announces the list, how many suggestions, and the one highlighted by the arrows.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || "/api/v1/library/indicators";
  var FIELDS = ["level1", "level2", "operator", "target_value", "measure_unit"];
  var timer = null, box = null, owner = null, items = [], active = -1, seq = 0;

  function field(input, name) {
    var prefix = input.name.slice(0, input.name.length - "name".length);
    return input.form ? input.form.elements.namedItem(prefix + name) : null;
  }
  function formValue(input, name) {
    var el = input.form ? input.form.elements.namedItem(name) : null;
    return el && el.value ? el.value.trim() : "";
  }
  function formTree(input) {
    var tree = input.form ? input.form.elements.namedItem("tree") : null;
    return tree && tree.value ? tree.value : "";
  }
  var status = null;
  function announce(text) {
    if (!status) {
      status = document.createElement("div");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = text;
  }
  function close() {
    if (box) { box.remove(); }
    if (owner) {
      owner.setAttribute("aria-expanded", "false");
      owner.removeAttribute("aria-controls");
      owner.removeAttribute("aria-activedescendant");
    }
    box = null; owner = null; items = []; active = -1;
  }
  function choose(i) {
    var entry = items[i], input = owner;
    if (!entry || !input) return;
    input.value = entry.name;
    FIELDS.forEach(function (name) {
      var el = field(input, name);
      if (el) { el.value = entry[name] || ""; el.dispatchEvent(new Event("change", { bubbles: true })); }
    });
    var explanation = field(input, "explanation");
    if (explanation && !explanation.value) explanation.value = entry.explanation || "";
    close();
    input.focus();
  }
  function highlight(i) {
    if (!box) return;
    var options = box.querySelectorAll("li");
    options.forEach(function (li, k) { li.setAttribute("aria-selected", k === i ? "true" : "false"); });
    active = i;
    if (owner && options[i]) {
      owner.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    }
  }
  function show(input, results) {
    close();
    if (!results.length) return;
    owner = input; items = results;
    box = document.createElement("ul");
    box.className = "suggestions";
    box.id = (input.id || "indicator") + "-suggestions";
    box.setAttribute("role", "listbox");
    box.setAttribute("aria-label", "指标库建议");
    results.forEach(function (entry, i) {
      var li = document.createElement("li");
      li.id = box.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var name = document.createElement("strong");
      name.textContent = entry.name;  // textContent: library text is never parsed as HTML
      var meta = document.createElement("span");
      meta.textContent = " " + entry.value_text + "　" + entry.level1 + "/" + entry.level2 + "　" + entry.category;
      li.appendChild(name); li.appendChild(meta);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      box.appendChild(li);
    });
    input.insertAdjacentElement("afterend", box);
    input.setAttribute("aria-controls", box.id);
    input.setAttribute("aria-expanded", "true");
    announce("找到" + results.length + "条指标库建议，按上下键选择，回车填入。");
  }
  function search(input) {
    var q = input.value.trim();
    if (!q) { close(); return; }
    var params = new URLSearchParams({ q: q, limit: "8" });
    var tree = formTree(input);
    if (tree) params.set("tree", tree);
    // The project's category (项目类型) ranks the library's entries of that category first.
    var category = formValue(input, "project_type");
    if (category) params.set("project_type", category);
    var level1 = field(input, "level1");
    if (level1 && level1.value) params.set("level1", level1.value);
    var mine = ++seq;
    fetch(endpoint + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) { if (mine === seq && document.activeElement === input) show(input, body.results || []); })
      .catch(function () { close(); });
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t.dataset || t.dataset.autocomplete !== "indicator") return;
    clearTimeout(timer);
    timer = setTimeout(function () { search(t); }, 200);
  });
  document.addEventListener("keydown", function (e) {
    if (!box || e.target !== owner) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
    else if (e.key === "Escape") { close(); }
  });
  document.addEventListener("focusout", function (e) { if (e.target === owner) setTimeout(close, 150); });
})();
