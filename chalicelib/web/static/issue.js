// 線上開立 (issue online): what the form does beyond its htmx attributes. No inline scripts
// anywhere (the pages' CSP forbids them); everything here only improves a form that works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("issue-form");
  if (!form) return;

  function issueButtons() {
    return form.querySelectorAll(".issue-button");
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    // Enter in a text box (the hidden default button) or "compute again": the live preview is
    // refreshed in place instead of the whole page being sent.
    if (submitter && submitter.name === "row_action" && submitter.value === "preview" && window.htmx) {
      event.preventDefault();
      window.htmx.trigger("#preview", "refresh");
      return;
    }
    if (submitter && submitter.classList.contains("issue-button")) {
      // One click issues once; the server's Idempotency-Key covers what this cannot (two tabs).
      if (form.dataset.sending === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sending = "1";
      // After this tick, so that the browser still sends the form as it was submitted.
      window.setTimeout(function () {
        issueButtons().forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
        });
      }, 0);
    }
  });

  // A page restored from the back-forward cache must take a click again.
  window.addEventListener("pageshow", function () {
    form.dataset.sending = "";
    issueButtons().forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });
});
