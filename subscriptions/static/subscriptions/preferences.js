// The preference centre without its noise: the weekday shows only for a weekly digest and
// the pause date only when pausing; the browser's own time zone heads the zone list.
// Progressive enhancement: without JavaScript every field shows and the form still works.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preferences]");
  if (!form) {
    return;
  }

  function show(name, visible) {
    var field = form.querySelector('[data-field="' + name + '"]');
    if (field) {
      field.hidden = !visible;
    }
  }

  function applySchedule() {
    var checked = form.querySelector("input[name=schedule]:checked");
    var schedule = checked ? checked.value : "";
    show("weekday", schedule === "weekly");
    show("paused_until", schedule === "paused");
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "schedule") {
      applySchedule();
    }
  });
  applySchedule();

  var list = document.getElementById("timezone-list");
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }
  if (list && zone) {
    var options = list.querySelectorAll("option");
    for (var i = 0; i < options.length; i += 1) {
      if (options[i].value === zone) {
        options[i].label = zone + " (this browser)";
        list.insertBefore(options[i], list.firstChild);
        break;
      }
    }
  }

  // A saved zone that differs from this browser's (UTC after a sign-up without
  // JavaScript, or a move): offer the browser's zone in one click, never silently.
  var input = form.querySelector("input[name=timezone]");
  if (input && zone && input.value !== zone && list && list.querySelector("option[label]")) {
    var offer = document.createElement("button");
    offer.type = "button";
    offer.className = "button--link";
    offer.textContent = "Use this browser's time zone, " + zone;
    offer.addEventListener("click", function () {
      input.value = zone;
      offer.remove();
    });
    input.insertAdjacentElement("afterend", offer);
  }
})();
