// Tracks (字軌): the POS device id only matters for a POS channel, so it is hidden for the
// others. Without the script it simply stays visible (and is ignored unless POS is chosen).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-channel-kind]").forEach(function (select) {
    var form = select.form;
    var device = form && form.querySelector("[data-pos-only]");
    if (!device) return;
    var sync = function () {
      device.hidden = select.value !== "pos";
    };
    select.addEventListener("change", sync);
    sync();
  });
});
