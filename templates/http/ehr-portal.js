/* Clinical Portal sign-in: show-password toggle, Caps Lock warning, no double submit. */
(function () {
  "use strict";
  var form = document.getElementById("signin");
  var password = document.getElementById("password");
  var show = document.getElementById("show");
  var caps = document.getElementById("caps");
  if (!form || !password) { return; }
  if (show) {
    show.addEventListener("change", function () { password.type = show.checked ? "text" : "password"; });
  }
  password.addEventListener("keyup", function (e) {
    if (caps && e.getModifierState) { caps.hidden = !e.getModifierState("CapsLock"); }
  });
  form.addEventListener("submit", function () {
    var button = form.querySelector("button");
    if (button) { button.disabled = true; button.textContent = "Signing in\u2026"; }
  });
  var user = document.getElementById("username");
  if (user && !user.value) { user.focus(); }
})();
