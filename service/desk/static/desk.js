// The desk works without this script; it adds keyboard navigation of the queue, offsets
// filled in from a selection in the article, and more evidence rows on demand.
(function () {
  "use strict";

  function typing(event) {
    var target = event.target;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // The queue: j and k move between rows, Enter opens (the row's link has the focus),
  // t takes the focused row's claim.
  function queueKeys(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tr[data-row]"));
    if (!rows.length) return;
    var current = -1;
    function focusRow(index) {
      if (index < 0 || index >= rows.length) return;
      if (current >= 0) rows[current].classList.remove("focused");
      current = index;
      rows[current].classList.add("focused");
      rows[current].querySelector("[data-row-link]").focus();
    }
    rows.forEach(function (row, index) {
      row.addEventListener("focusin", function () {
        if (current >= 0 && current !== index) rows[current].classList.remove("focused");
        current = index;
        row.classList.add("focused");
      });
    });
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
      else if (event.key === "k") { focusRow(Math.max(current - 1, 0)); event.preventDefault(); }
      else if (event.key === "t" && current >= 0) {
        var take = rows[current].querySelector("form[data-take]");
        if (take) { event.preventDefault(); take.requestSubmit ? take.requestSubmit() : take.submit(); }
      }
    });
  }

  // Offsets are code points from the start of the body (as claims' offsets are), and the
  // body element's text is the article's body exactly.
  function codePoints(text) { return Array.from(text).length; }

  function offsetIn(body, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(body);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }

  function selectionForms(body) {
    var forms = document.querySelectorAll("form[data-selection-form]");
    if (!forms.length) return;
    function fill() {
      var selection = window.getSelection();
      if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
      var range = selection.getRangeAt(0);
      if (!body.contains(range.startContainer) || !body.contains(range.endContainer)) return;
      var start = offsetIn(body, range.startContainer, range.startOffset);
      var end = offsetIn(body, range.endContainer, range.endOffset);
      var quote = range.toString();
      forms.forEach(function (form) {
        form.querySelector("[data-selection-start]").value = String(start);
        form.querySelector("[data-selection-end]").value = String(end);
        form.querySelector("[data-selection-quote]").value = quote;
      });
      var details = forms[0].closest("details");
      if (details) details.open = true;
    }
    body.addEventListener("mouseup", fill);
    body.addEventListener("keyup", fill);
    // A typed quote is found by the server: offsets from an earlier selection must not stay.
    forms.forEach(function (form) {
      form.querySelector("[data-selection-quote]").addEventListener("input", function () {
        form.querySelector("[data-selection-start]").value = "";
        form.querySelector("[data-selection-end]").value = "";
      });
    });
  }

  // Rows are named evidence-N-field; their ids carry the form's prefix.
  function evidenceRows(form) {
    var holder = form.querySelector("[data-evidence-rows]");
    if (!holder) return;
    var prefix = holder.getAttribute("data-prefix") || "";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Add another evidence row";
    button.addEventListener("click", function () {
      var rows = holder.querySelectorAll("[data-evidence-row]");
      var next = rows.length;
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelector("legend").textContent = "Evidence " + (next + 1);
      copy.querySelectorAll("[name]").forEach(function (field) {
        field.name = field.name.replace(/^evidence-\d+-/, "evidence-" + next + "-");
        field.id = prefix + field.name;
        if (field.tagName === "SELECT") field.selectedIndex = 0;
        else field.value = "";
      });
      copy.querySelectorAll("label[for]").forEach(function (label) {
        label.htmlFor = prefix + label.htmlFor.slice(label.htmlFor.indexOf("evidence-"))
          .replace(/^evidence-\d+-/, "evidence-" + next + "-");
      });
      holder.appendChild(copy);
      copy.querySelector("input").focus();
    });
    holder.after(button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table[data-queue]");
    if (table) queueKeys(table);
    var body = document.querySelector("[data-article-body]");
    if (body) selectionForms(body);
    document.querySelectorAll("form[data-evidence-form]").forEach(evidenceRows);
  });
})();
