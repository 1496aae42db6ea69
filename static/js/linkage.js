// Linkage's htmx glue, loaded on every page after htmx (see the htmx-config meta tag in
// base.html, which makes 400/409/422 answers swap in place like 200: they carry the form
// again with its errors), and the small behaviours templates ask for with data attributes.
// It needs no htmx itself: the printable release page loads it alone.
(function () {
  "use strict";

  function notice(text) {
    var region = document.getElementById("htmx-notice");
    if (!region) return;
    region.textContent = text;
    region.hidden = !text;
  }

  function pathname(url) {
    try {
      return new URL(url, window.location.href).pathname;
    } catch (e) {
      return null;
    }
  }

  document.addEventListener("htmx:beforeRequest", function () {
    notice("");
  });

  // A request the server redirected elsewhere (most often the sign-in page, once the
  // session has timed out) is not the fragment the page asked for: swapping it in would
  // put a piece of another page here, or, with hx-select, blank the form. Go there instead.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var detail = evt.detail;
    var xhr = detail.xhr;
    if (xhr.status < 200 || xhr.status >= 300 || !xhr.responseURL) return;
    var asked = pathname(detail.pathInfo.finalRequestPath || detail.pathInfo.requestPath);
    var answered = pathname(xhr.responseURL);
    if (asked && answered && asked !== answered) {
      detail.shouldSwap = false;
      detail.isError = false;
      window.location.assign(xhr.responseURL);
    }
  });

  // Answers htmx does not swap (a 403, 404 or 429 page, a server error) would otherwise
  // leave the page as it was without a word.
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    notice(
      status >= 500
        ? "Something went wrong on the server (error " + status + "). Try again in a moment; if it keeps happening, tell your administrator."
        : "That did not work (error " + status + "). Reload the page and try again."
    );
  });

  document.addEventListener("htmx:sendError", function () {
    notice("The server could not be reached. Check the connection and try again.");
  });

  // After a submit that failed, focus goes to what went wrong (the error summary, or the
  // first invalid field), so a keyboard or screen-reader user is not left on the body.
  // Only pages that carry errors: a warning banner alone (do-not-contact) takes no focus.
  function focusFirstError() {
    var target =
      document.querySelector("main [data-error-summary]") ||
      document.querySelector("main .error[role='alert']") ||
      document.querySelector("main [aria-invalid='true']");
    if (!target) return;
    if (!target.matches("input, select, textarea, button, a[href], fieldset") &&
        !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    if (target.matches("fieldset")) {
      var field = target.querySelector("input, select, textarea");
      if (field) target = field;
    }
    target.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }

  // The Content-Security-Policy refuses inline handlers (onsubmit="return confirm(...)",
  // onclick="window.print()"): templates say what they want with data attributes instead.
  // data-confirm="Question?" on a form asks before it is submitted, on a button or link
  // before it acts.
  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") &&
          !window.confirm(form.getAttribute("data-confirm"))) {
        evt.preventDefault();
        evt.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener(
    "click",
    function (evt) {
      var target = evt.target instanceof Element ? evt.target : null;
      var asking = target && target.closest("button[data-confirm], a[data-confirm]");
      if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
        evt.preventDefault();
        evt.stopImmediatePropagation();
        return;
      }
      // data-print: a button that opens the browser's print dialog.
      var printer = target && target.closest("[data-print]");
      if (printer) {
        evt.preventDefault();
        window.print();
      }
    },
    true
  );
})();
