// Keyboard helpers for the desk: "/" focuses the search box; arrows move through results; Enter opens one.
(function () {
  "use strict";
  function results() { return Array.from(document.querySelectorAll("[data-result]")); }

  document.addEventListener("keydown", function (event) {
    const active = document.activeElement;
    const typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    if (event.key === "/" && !typing) {
      const box = document.querySelector("[data-search-box]");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    const list = results();
    if (!list.length) return;
    const index = list.indexOf(active);
    const inBox = active && active.hasAttribute("data-search-box");
    if (event.key === "ArrowDown" && (inBox || index >= 0)) {
      event.preventDefault();
      list[Math.min(index + 1, list.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) document.querySelector("[data-search-box]").focus(); else list[index - 1].focus();
    } else if (event.key === "Enter" && inBox) {
      event.preventDefault();
      window.location = list[0].getAttribute("href");
    }
  });

  // Add a phone row to the client form from the formset's empty template.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-add-form]");
    if (!button) return;
    const prefix = button.getAttribute("data-add-form");
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const template = document.getElementById(prefix + "-empty");
    const html = template.innerHTML.replace(/__prefix__/g, total.value);
    document.getElementById(prefix + "-rows").insertAdjacentHTML("beforeend", html);
    total.value = String(Number(total.value) + 1);
    const rows = document.getElementById(prefix + "-rows");
    const input = rows.lastElementChild && rows.lastElementChild.querySelector("input");
    if (input) input.focus();
  });
})();

// The slot picker: a click on a slot button chooses it (the form posts `slot` = "advisor@start");
// a day-jump button moves the date field and reloads the slots.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const slot = event.target.closest(".slot, .pick-slot");
    if (slot) {
      const form = slot.closest("form");
      form.querySelector("input[name=slot]").value = slot.getAttribute("data-slot");
      form.querySelectorAll(".slot, .pick-slot").forEach(function (b) {
        b.classList.remove("active");
        b.setAttribute("aria-checked", "false");
      });
      slot.classList.add("active");
      slot.setAttribute("aria-checked", "true");
      if (slot.classList.contains("pick-slot")) {
        const day = form.querySelector("input[name=day]");
        if (day) day.value = slot.getAttribute("data-day");
      }
      return;
    }
    const jump = event.target.closest(".day-jump");
    if (jump) {
      const day = jump.closest("form").querySelector("input[name=day]");
      day.value = jump.getAttribute("data-day");
      day.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();

// After the slots reload, keep the chosen slot marked if it is still offered, otherwise forget it.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "slots") return;
  const form = event.target.closest("form");
  const input = form && form.querySelector("input[name=slot]");
  if (!input || !input.value) return;
  const still = event.target.querySelector('[data-slot="' + input.value + '"]');
  if (still) { still.classList.add("active"); still.setAttribute("aria-checked", "true"); } else { input.value = ""; }
});

// Behaviour the pages declare with data attributes (the Content-Security-Policy allows no inline script):
// data-submit-on-change on a field submits its form; data-confirm on a form asks before sending it;
// data-busy-on-submit disables the form's button and shows its [role=status] while it is sent;
// data-tick-all="<selector>" on a checkbox ticks every box the selector finds.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) { field.form.submit(); return; }
    const all = event.target.closest("[data-tick-all]");
    if (all) {
      document.querySelectorAll(all.getAttribute("data-tick-all")).forEach(function (box) { box.checked = all.checked; });
    }
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-busy-on-submit")) {
      const button = form.querySelector("button");
      const status = form.querySelector("[role=status]");
      if (button) button.disabled = true;
      if (status) status.classList.remove("d-none");
    }
  });
})();
