// Fills every hidden timezone input with the browser's IANA zone, so a new subscriber's
// digest arrives at 07:00 their time; without JavaScript the server falls back to UTC.
document.querySelectorAll("input[name=timezone][data-browser-timezone]").forEach(function (input) {
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    input.value = "";
  }
});
