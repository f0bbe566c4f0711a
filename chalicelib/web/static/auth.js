// Sign-up with a business certificate: sign the challenge in this browser with WebCrypto.
// The private key file is read here and never sent: its input has no name, so no form carries it.
"use strict";
(function () {
  function pemBody(text, label) {
    var match = new RegExp("-----BEGIN " + label + "-----([\\s\\S]*?)-----END " + label + "-----").exec(text);
    if (!match) return null;
    var binary = atob(match[1].replace(/\s+/g, ""));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function base64(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  // The server takes ECDSA P-256 (WebCrypto's r||s form) or RSA PKCS#1 v1.5, both over SHA-256.
  var ALGORITHMS = [
    { importAs: { name: "ECDSA", namedCurve: "P-256" }, signAs: { name: "ECDSA", hash: "SHA-256" } },
    { importAs: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signAs: { name: "RSASSA-PKCS1-v1_5" } },
  ];

  function sign(der, message, index) {
    if (index >= ALGORITHMS.length) return Promise.reject(new Error("unsupported key"));
    var algorithm = ALGORITHMS[index];
    return crypto.subtle
      .importKey("pkcs8", der, algorithm.importAs, false, ["sign"])
      .then(function (key) { return crypto.subtle.sign(algorithm.signAs, key, message); })
      .catch(function () { return sign(der, message, index + 1); });
  }

  function readText(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsText(file);
    });
  }

  function setUp(box) {
    var form = box.closest("form");
    var status = box.querySelector("[data-sign-status]");
    var keyInput = box.querySelector("input[type=file]");
    var nonce = form.querySelector("[data-nonce]").getAttribute("data-nonce");
    var target = form.querySelector("textarea[name=signature]");
    box.hidden = false;
    box.querySelector("[data-sign]").addEventListener("click", function () {
      var file = keyInput.files && keyInput.files[0];
      if (!file) { status.textContent = status.dataset.noKey; keyInput.focus(); return; }
      readText(file).then(function (text) {
        if (text.indexOf("ENCRYPTED PRIVATE KEY") >= 0) { status.textContent = status.dataset.encrypted; return; }
        var der = pemBody(text, "PRIVATE KEY");
        if (!der) { status.textContent = status.dataset.notPkcs8; return; }
        return sign(der, new TextEncoder().encode(nonce), 0).then(function (signature) {
          target.value = base64(signature);
          keyInput.value = "";
          status.textContent = status.dataset.signed;
        });
      }).catch(function () { status.textContent = status.dataset.failed; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.crypto || !window.crypto.subtle) return; // http on a non-local host: OpenSSL only
    document.querySelectorAll("[data-webcrypto]").forEach(setUp);
  });
})();
