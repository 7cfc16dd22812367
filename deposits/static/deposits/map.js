/* Maps of the registry's pages: borders from a static GeoJSON file, deposits as points.
 *
 * Each <div data-map="ID"> reads its settings from <script type="application/json" id="ID">
 * (no inline script, so a strict Content Security Policy can apply):
 *   outline   URL of the borders (GeoJSON, Tajikistan drawn strongest)
 *   points    a GeoJSON FeatureCollection of deposits, or
 *   pointsUrl a URL answering one (the list page's filtered deposits)
 *   tiles     optional {url, attribution} of an online tile layer
 * When the points are drawn, the element gets data-markers="N" and the status
 * line (data-map-status) says how many deposits are shown.
 */
(function () {
  "use strict";

  var TAJIKISTAN_BOUNDS = [[36.6, 67.3], [41.1, 75.2]];

  function popup(feature) {
    var link = document.createElement("a");
    link.href = feature.properties.url;
    link.textContent = feature.properties.name;
    return link;
  }

  function borderStyle(feature) {
    if (feature.properties.name === "Tajikistan") {
      return { color: "#1f4e79", weight: 2, fillColor: "#dbe8f4", fillOpacity: 0.5 };
    }
    return { color: "#8a8a8a", weight: 1, fillColor: "#f2f2f2", fillOpacity: 0.6 };
  }

  function init(element) {
    var config = JSON.parse(document.getElementById(element.dataset.map).textContent);
    var status = element.parentNode.querySelector("[data-map-status]");
    var map = L.map(element, { scrollWheelZoom: false });
    map.fitBounds(TAJIKISTAN_BOUNDS);
    map.attributionControl.addAttribution("Borders: Natural Earth");
    if (config.tiles) {
      L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution }).addTo(map);
    }
    fetch(config.outline)
      .then(function (response) { return response.json(); })
      .then(function (borders) {
        L.geoJSON(borders, { interactive: false, style: borderStyle }).addTo(map).bringToBack();
      });

    function draw(collection) {
      var markers = L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {
            radius: 7, color: "#7a1f1f", weight: 2, fillColor: "#d9534f", fillOpacity: 0.85,
            className: "deposit-marker"
          });
        },
        onEachFeature: function (feature, layer) {
          layer.bindPopup(popup(feature));
        }
      }).addTo(map);
      var count = collection.features.length;
      if (count === 1) {
        map.setView(markers.getBounds().getCenter(), config.zoom || 8);
      } else if (count > 1) {
        map.fitBounds(markers.getBounds().pad(0.2), { maxZoom: 9 });
      }
      element.dataset.markers = String(count);
      if (status) {
        var template = collection.truncated ? status.dataset.truncated : status.dataset.shown;
        status.textContent = template.replace("%s", count);
      }
    }

    if (config.points) {
      draw(config.points);
    } else if (config.pointsUrl) {
      fetch(config.pointsUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (collection) {
          if (collection.features) { draw(collection); }
        });
    } else {
      element.dataset.markers = "0";
    }
  }

  document.querySelectorAll("[data-map]").forEach(init);
})();
