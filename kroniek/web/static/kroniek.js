// Kroniek pages: layer toggles in the reader, the Leaflet map. Pages work without it.
(function () {
  "use strict";

  // Reader: one checkbox per layer hides that layer's highlighting.
  var text = document.getElementById("text");
  if (text) {
    document.querySelectorAll("input[data-layer]").forEach(function (box) {
      var apply = function () {
        var layer = box.getAttribute("data-layer");
        text.classList.toggle("hide-" + layer, !box.checked);
        document.querySelectorAll(".layer-list[data-layer='" + layer + "']").forEach(function (s) {
          s.classList.toggle("off", !box.checked);
        });
      };
      box.addEventListener("change", apply);
      apply();
    });
  }

  // Map: markers from the embedded GeoJSON; tiles are optional (offline still shows markers).
  var mapEl = document.getElementById("map");
  var dataEl = document.getElementById("places-data");
  if (mapEl && dataEl && window.L) {
    var data = JSON.parse(dataEl.textContent);
    var map = L.map(mapEl, { worldCopyJump: true });
    var tiles = L.tileLayer(mapEl.getAttribute("data-tiles"), {
      maxZoom: 18, attribution: mapEl.getAttribute("data-attribution") || ""
    });
    var failed = 0;
    tiles.on("tileerror", function () {
      failed += 1;
      if (failed === 1) {
        var note = document.createElement("div");
        note.className = "map-note";
        note.textContent = "map tiles unavailable (offline?): markers only";
        mapEl.appendChild(note);
      }
    });
    tiles.addTo(map);
    var items = document.querySelectorAll("#place-list li");
    var markers = [];
    var max = 1;
    data.features.forEach(function (f) { max = Math.max(max, f.properties.documents || 1); });
    data.features.forEach(function (f, i) {
      var c = f.geometry.coordinates;
      var p = f.properties;
      var m = L.circleMarker([c[1], c[0]], {
        radius: 5 + 10 * Math.sqrt((p.documents || 1) / max), color: "#1c4e9c", weight: 1.5,
        fillColor: "#4c6ef5", fillOpacity: 0.6
      });
      // Popup built from text nodes: place names never become markup.
      var box = document.createElement("div");
      var b = document.createElement("strong");
      b.textContent = p.name || p.text || "";
      box.appendChild(b);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode((p.kind || "") + " · " + p.documents + " documents, " + p.mentions + " mentions"));
      m.bindPopup(box);
      m.addTo(map);
      markers.push(m);
      var li = items[i];
      if (li) {
        li.addEventListener("mouseenter", function () { m.setStyle({ fillColor: "#f59f00" }); li.classList.add("on"); });
        li.addEventListener("mouseleave", function () { m.setStyle({ fillColor: "#4c6ef5" }); li.classList.remove("on"); });
        m.on("click", function () { li.scrollIntoView({ block: "nearest" }); });
      }
    });
    if (markers.length) {
      map.fitBounds(L.featureGroup(markers).getBounds().pad(0.2), { maxZoom: 7 });
    } else {
      map.setView([50, 10], 3);
    }
    mapEl.setAttribute("data-markers", String(markers.length));
  }
})();
