// The thank-you form: choosing another channel swaps the message for that channel's template, unless the message
// was already changed by hand. Without JavaScript the form works the same; the message just stays as it is.
(function () {
  "use strict";
  var select = document.querySelector("select[data-message]");
  if (!select) { return; }
  var message = document.getElementById(select.getAttribute("data-message"));
  if (!message) { return; }
  var previous = select.options[select.selectedIndex];
  select.addEventListener("change", function () {
    var chosen = select.options[select.selectedIndex];
    var untouched = message.value.trim() === "" ||
      (previous && message.value === previous.getAttribute("data-template"));
    if (untouched && chosen.hasAttribute("data-template")) {
      message.value = chosen.getAttribute("data-template");
    }
    previous = chosen;
  });
})();
