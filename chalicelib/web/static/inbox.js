// Received, pending and MIG pages: behaviour beyond plain forms (the CSP allows no inline script).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A form that changes something the merchant cannot take back asks first (data-confirm="...").
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // The pending-invoice form: one more item row, numbered after the last (the server reads any count).
  var adder = document.querySelector("[data-add-item-row]");
  var rows = document.getElementById("item-rows");
  if (!adder || !rows) return;
  adder.hidden = false;
  adder.addEventListener("click", function () {
    var all = rows.querySelectorAll("[data-item-row]");
    var last = all[all.length - 1];
    var next = all.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/items\[\d+\]|items-\d+/g, function (m) {
          return m.indexOf("[") >= 0 ? "items[" + next + "]" : "items-" + next;
        }));
      });
      if (el.tagName === "INPUT") el.value = "";
      if (el.tagName === "SELECT") el.selectedIndex = 0;
      el.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    copy.classList.remove("has-error");
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var legend = copy.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+\s*$/, String(next + 1));
    rows.appendChild(copy);
    var first = copy.querySelector("input");
    if (first) first.focus();
  });
});
