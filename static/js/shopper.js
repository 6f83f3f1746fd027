/* Shopper portal: "Use my location" fills the hidden point and says what happened (the
   texts come translated in the button's data attributes). Without geolocation the button
   is hidden: the postal code does the job. */
(function () {
  "use strict";
  var button = document.getElementById("locate");
  if (!button) return;
  var status = document.getElementById("locate-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  if (!("geolocation" in navigator)) { button.hidden = true; return; }

  function say(text, kind) {
    status.textContent = text;
    status.className = "notice" + (kind ? " " + kind : "");
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say(button.dataset.finding, "");
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lon.value = position.coords.longitude.toFixed(6);
      button.disabled = false;
      button.setAttribute("aria-pressed", "true");
      say(button.dataset.found, "");
    }, function (error) {
      lat.value = lon.value = "";
      button.disabled = false;
      button.setAttribute("aria-pressed", "false");
      say(error.code === 1 ? button.dataset.denied : button.dataset.failed, "warn");
    }, {timeout: 15000, maximumAge: 300000});
  });
})();
