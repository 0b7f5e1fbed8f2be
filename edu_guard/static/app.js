/* edu_guard: every script the pages run. The Content-Security-Policy allows scripts
   from this file only (script-src 'self', no inline script or handler): a page asks
   for a behaviour with a data- attribute or an id, never with an inline script.

   - .menu-toggle                  the phone menu button, and a desktop menu that never wraps
                                   (stacked on its own row, else behind the button);
   - form[data-confirm]            asks the attribute's question before submitting;
   - #user-form [data-role]        shows the township or school choice for its role only;
   - #import-form                  stops a second click while a big workbook uploads;
   - #job-running[data-state-url]  polls a running job and shows its progress (the
                                   job's page: data-reload-when-ended reloads it when
                                   the job ends without a page to go to);
   - [data-print-now]              opens the print dialog once the page has loaded;
   - [data-print]                  a link or button that prints the page. */
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".menu-toggle");
  if (button) {
    var bar = button.closest(".topbar");
    var nav = bar.querySelector("nav");
    var phone = window.matchMedia("(max-width: 720px)");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    var wraps = function () {
      var links = nav.querySelectorAll("a");
      return links.length > 1 && links[links.length - 1].offsetTop > links[0].offsetTop;
    };
    // On a wide screen the menu stays on one row: beside the name when it fits, on a
    // row of its own when not, behind the menu button when even that is too narrow.
    var fit = function () {
      bar.classList.remove("stacked", "collapsed");
      if (phone.matches) { return; }
      if (!wraps() && bar.scrollWidth <= bar.clientWidth) { return; }
      bar.classList.add("stacked");
      if (wraps() || bar.scrollWidth > bar.clientWidth) { bar.classList.add("collapsed"); }
    };
    fit();
    window.addEventListener("resize", fit);
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fit); }
  }

  var confirming = document.querySelectorAll("form[data-confirm]");
  for (var c = 0; c < confirming.length; c++) {
    confirming[c].addEventListener("submit", function (event) {
      if (!window.confirm(this.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  var role = document.querySelector("#user-form #role");
  if (role) {
    var sync = function () {
      var blocks = document.querySelectorAll("#user-form [data-role]");
      for (var i = 0; i < blocks.length; i++) {
        blocks[i].style.display = blocks[i].getAttribute("data-role") === role.value ? "" : "none";
      }
    };
    role.addEventListener("change", sync);
    sync();
  }

  var importForm = document.getElementById("import-form");
  if (importForm) {
    importForm.addEventListener("submit", function () {
      document.getElementById("import-submit").disabled = true;
      document.getElementById("import-busy").hidden = false;
    });
  }

  var running = document.querySelector("#job-running[data-state-url]");
  if (running) {
    /* Poll the job every second (XMLHttpRequest: old browsers have no fetch). */
    var url = running.getAttribute("data-state-url");
    var rowsLabel = running.getAttribute("data-rows-label");
    var runningLabel = running.getAttribute("data-running-label");
    var poll = function () {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url);
      xhr.onload = function () {
        if (xhr.status !== 200) { setTimeout(poll, 3000); return; }
        var job = JSON.parse(xhr.responseText);
        var stateLabel = document.getElementById("job-state");
        if (stateLabel && job.state_label) { stateLabel.textContent = job.state_label; }
        if (job.state === "done" && job.url) { window.location = job.url; return; }
        if ((job.state === "done" || job.state === "failed") && running.hasAttribute("data-reload-when-ended")) {
          window.location.reload();
          return;
        }
        if (job.state === "failed") {
          running.hidden = true;
          document.getElementById("job-error").textContent = job.error;
          document.getElementById("job-failed").hidden = false;
          return;
        }
        var fill = document.getElementById("job-fill");
        if (job.total) {
          fill.className = "fill";
          fill.style.width = Math.min(100, 100 * job.done / job.total).toFixed(1) + "%";
          document.getElementById("job-text").textContent =
            runningLabel + " " + job.done + " / " + job.total + (rowsLabel ? " " + rowsLabel : "");
        }
        setTimeout(poll, 1000);
      };
      xhr.onerror = function () { setTimeout(poll, 3000); };
      xhr.send();
    };
    setTimeout(poll, 500);
  }

  var printers = document.querySelectorAll("[data-print]");
  for (var p = 0; p < printers.length; p++) {
    printers[p].addEventListener("click", function (event) {
      event.preventDefault();
      window.print();
    });
  }
  if (document.querySelector("[data-print-now]")) { window.print(); }
});
