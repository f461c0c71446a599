// govmail webmail: a little progressive enhancement. Every page works without it;
// no inline script anywhere (the CSP forbids it), no third-party code.
(function () {
  "use strict";

  // "Select all" checkboxes in message lists.
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    var name = all.getAttribute("data-check-all");
    var form = all.form;
    all.addEventListener("change", function () {
      form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) {
        c.checked = all.checked;
      });
    });
  });

  // Actions that cannot be taken back or that tell other people (deleting held
  // mail, reporting a message) ask first. Without script the form still posts,
  // with its CSRF token: the question is a courtesy, not the safeguard.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // The sandboxed mail frame has no script of its own; being same-origin, its
  // height can be read from here so the message does not scroll inside a box.
  document.querySelectorAll("iframe[data-autoheight]").forEach(function (f) {
    function fit() {
      try {
        var d = f.contentDocument;
        if (!d || !d.documentElement) return;
        f.style.height = Math.max(120, d.documentElement.scrollHeight + 8) + "px";
      } catch (e) { /* keep the CSS height */ }
    }
    f.addEventListener("load", function () {
      fit();
      // Images load after the document; fit again as they arrive.
      var d = f.contentDocument;
      if (d) d.querySelectorAll("img").forEach(function (img) { img.addEventListener("load", fit); });
    });
  });

  // Compose: refuse files over the message size limit before uploading them (R11.5;
  // the server refuses them too), and keep Enter in a one-line field from sending.
  document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    var err = form.querySelector("[data-size-error]");
    var input = form.querySelector('input[type=file]');
    function total() {
      var n = 0;
      if (input && input.files) for (var i = 0; i < input.files.length; i++) n += input.files[i].size;
      return n;
    }
    function check() {
      // base64 makes attachments a third larger in the message.
      var tooBig = total() * 4 / 3 > max;
      if (err) err.hidden = !tooBig;
      return !tooBig;
    }
    if (input) input.addEventListener("change", check);
    form.addEventListener("submit", function (ev) {
      if (!check()) { ev.preventDefault(); if (input) input.focus(); }
    });
    form.querySelectorAll("input[type=text]").forEach(function (t) {
      t.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") ev.preventDefault();
      });
    });
  });
})();
