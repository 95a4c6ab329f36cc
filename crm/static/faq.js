/* faq.js: FAQ answers while typing, and "Copy answer" buttons. Our own code, no dependencies.
 * Progressive enhancement only: every page works without it (search on submit; the answer text sits in a
 * readonly textarea the user can select and copy).
 *
 * Suggestions while typing: the contract other pages rely on (the FAQ page, the late-question form)
 *   <input data-faq-suggest="LIST_ID">   (or a <textarea>) inside a <form>
 *   <ol id="LIST_ID"></ol>              (or <ul>) where the suggestions appear; emptied on each new search
 *   In the same form, all optional:
 *     a field named "incident_id" / "tag"   with a value, only that incident's / tag's answers are suggested
 *                                           (data-faq-incident="ID" on the input fixes the incident instead)
 *     [data-faq-pick-target]                set to the picked entry's id (e.g. <input type="hidden" name="faq_id">)
 *     [data-faq-pick-answer]                set to the picked entry's answer text (Markdown source)
 *   On the input, optional: data-faq-pick="copy": the button reads "Copy answer" and copies the answer text.
 * Each suggestion shows the question (a link to /faq/ID), its incident, the highlighted snippet, and a
 * "Use this answer" button that fills the targets above and dispatches a bubbling CustomEvent "faq:pick" on
 * the input with detail {id, question, answer}. The list item picked gets the class "is-picked".
 * Requests: GET /api/v1/faq/search?q=...&limit=5 (same origin, the session cookie), 200 ms after the last
 * keystroke, from 2 characters; only the newest request's answer is shown. Published answers only.
 * Everything from the server goes into the page as text (textContent); the snippet's only markup, <mark>, is
 * rebuilt as elements from the escaped text, never parsed as HTML.
 *
 * Copy buttons: <button type="button" data-faq-copy="TEXTAREA_ID" hidden>Copy answer</button> is shown and copies
 * that textarea's text with navigator.clipboard; if the browser refuses, the text is selected instead.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var MIN_CHARS = 2;
  var LIMIT = 5;
  var status = null;

  function announce(message) {
    if (!status) {
      status = document.createElement("p");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      document.body.appendChild(status);
    }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function unescapeHtml(text) {
    // search.py escapes with html.escape(quote=True): exactly these five entities.
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"")
      .replace(/&#x27;/g, "'").replace(/&amp;/g, "&");
  }

  function snippetInto(element, snippet) {
    var parts = String(snippet || "").split(/(<mark>|<\/mark>)/);
    var marked = false;
    parts.forEach(function (part) {
      if (part === "<mark>") { marked = true; return; }
      if (part === "</mark>") { marked = false; return; }
      if (!part) { return; }
      var text = document.createTextNode(unescapeHtml(part));
      if (marked) {
        var mark = document.createElement("mark");
        mark.appendChild(text);
        element.appendChild(mark);
      } else {
        element.appendChild(text);
      }
    });
  }

  function copyText(text, fallback) {
    function selectFallback() {
      if (fallback) {
        var details = fallback.closest("details");
        if (details) { details.open = true; }
        fallback.focus();
        fallback.select();
      }
      announce("Copying is blocked here: the answer is selected, press Ctrl+C (or Cmd+C) to copy it.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { announce("Answer copied."); }, selectFallback);
    } else {
      selectFallback();
    }
  }

  function formField(form, name) {
    var field = form && form.elements ? form.elements.namedItem(name) : null;
    return field && typeof field.value === "string" ? field.value.trim() : "";
  }

  function setupSuggest(input) {
    var list = document.getElementById(input.getAttribute("data-faq-suggest"));
    if (!list) { return; }
    var form = input.form || input.closest("form");
    var copyMode = input.getAttribute("data-faq-pick") === "copy";
    var timer = null;
    var latest = 0;

    function clear() {
      while (list.firstChild) { list.removeChild(list.firstChild); }
    }

    function pick(item, li) {
      if (form) {
        form.querySelectorAll("[data-faq-pick-target]").forEach(function (el) { el.value = String(item.id); });
        form.querySelectorAll("[data-faq-pick-answer]").forEach(function (el) { el.value = item.answer; });
      }
      list.querySelectorAll(".is-picked").forEach(function (el) { el.classList.remove("is-picked"); });
      li.classList.add("is-picked");
      input.dispatchEvent(new CustomEvent("faq:pick", {
        bubbles: true, detail: {id: item.id, question: item.question, answer: item.answer}
      }));
      if (copyMode) {
        copyText(item.answer, null);
      } else {
        announce("Answer chosen: " + item.question);
      }
    }

    function show(items) {
      clear();
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "faq-suggestion";
        var link = document.createElement("a");
        link.href = "/faq/" + encodeURIComponent(item.id);
        link.textContent = item.question;
        link.className = "faq-suggestion-question";
        li.appendChild(link);
        if (item.incident_title) {
          var incident = document.createElement("span");
          incident.className = "muted faq-suggestion-incident";
          incident.textContent = item.incident_title;
          li.appendChild(incident);
        }
        var snippet = document.createElement("p");
        snippet.className = "faq-suggestion-snippet";
        snippetInto(snippet, item.snippet);
        li.appendChild(snippet);
        var button = document.createElement("button");
        button.type = "button";
        button.className = "small";
        button.textContent = copyMode ? "Copy answer" : "Use this answer";
        button.setAttribute("aria-label", (copyMode ? "Copy the answer to: " : "Use the answer to: ") + item.question);
        button.addEventListener("click", function () { pick(item, li); });
        li.appendChild(button);
        list.appendChild(li);
      });
    }

    function run() {
      var q = input.value.trim();
      var ticket = ++latest;
      if (q.length < MIN_CHARS) { clear(); return; }
      var params = new URLSearchParams({q: q.slice(0, 500), limit: String(LIMIT)});
      var incident = input.getAttribute("data-faq-incident") || formField(form, "incident_id");
      if (/^[0-9]{1,9}$/.test(incident)) { params.set("incident_id", incident); }
      var tag = formField(form, "tag");
      if (tag) { params.set("tag", tag.slice(0, 40)); }
      fetch("/api/v1/faq/search?" + params.toString(), {
        credentials: "same-origin", headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.ok ? response.json() : {items: []};
      }).then(function (body) {
        if (ticket === latest) { show(body.items || []); }
      }).catch(function () {
        if (ticket === latest) { clear(); }
      });
    }

    input.setAttribute("autocomplete", "off");
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { latest++; clear(); }
    });
  }

  function setupCopy(button) {
    var source = document.getElementById(button.getAttribute("data-faq-copy"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { copyText(source.value, source); });
  }

  function init() {
    document.querySelectorAll("[data-faq-suggest]").forEach(setupSuggest);
    document.querySelectorAll("[data-faq-copy]").forEach(setupCopy);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
