/* edu_guard: the menu button, and a menu that never wraps (the only script every page loads). */
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".menu-toggle");
  if (!button) { return; }
  var bar = button.closest(".topbar");
  var nav = bar.querySelector("nav");
  var phone = window.matchMedia("(max-width: 720px)");
  button.addEventListener("click", function () {
    var open = bar.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  function wraps() {
    var links = nav.querySelectorAll("a");
    return links.length > 1 && links[links.length - 1].offsetTop > links[0].offsetTop;
  }
  // On a wide screen the menu stays on one row: beside the name when it fits, on a
  // row of its own when not, behind the menu button when even that is too narrow.
  function fit() {
    bar.classList.remove("stacked", "collapsed");
    if (phone.matches) { return; }
    if (!wraps() && bar.scrollWidth <= bar.clientWidth) { return; }
    bar.classList.add("stacked");
    if (wraps() || bar.scrollWidth > bar.clientWidth) { bar.classList.add("collapsed"); }
  }
  fit();
  window.addEventListener("resize", fit);
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fit); }
});
