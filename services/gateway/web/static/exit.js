// Quick exit (DESIGN, "Reach when the web is blocked or cut"): the "Leave now" link, or Escape
// pressed twice within a second, replaces this page with one that ends the session. `replace`
// keeps the platform out of the history: Back does not return to it. Without JavaScript the link
// still works (one more entry in the history, whose pages are no-store and signed out).
(function () {
  "use strict";
  var lastEscape = 0;
  var leaving = false;

  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    if (!leaving) {
      leaving = true;
      window.location.replace("/leave");
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      leave(event);
    } else {
      lastEscape = now;
    }
  });

  var link = document.getElementById("quick-exit");
  if (link) {
    link.addEventListener("click", leave);
  }
}());
