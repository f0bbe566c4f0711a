// The console's own script. No inline scripts anywhere (the pages' CSP forbids them): behaviour a
// page needs beyond htmx attributes lives here, attached by data- attributes.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Mark the menu entry of the page being shown, for sighted users and screen readers alike.
  var here = window.location.pathname;
  var best = null;
  document.querySelectorAll(".menu a").forEach(function (link) {
    var path = new URL(link.href).pathname;
    if (here === path || here.startsWith(path + "/")) {
      if (!best || path.length > new URL(best.href).pathname.length) best = link;
    }
  });
  if (best) best.setAttribute("aria-current", "page");
});
