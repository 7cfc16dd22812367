/* Maps of the registry's pages: borders and region outlines from static GeoJSON files,
 * deposits as markers gathered into clusters (Leaflet.markercluster), and a box to draw
 * that filters the deposit list.
 *
 * Each <div data-map="ID"> reads its settings from <script type="application/json" id="ID">
 * (no inline script, so a strict Content Security Policy can apply):
 *   outline    URL of the countries' borders (GeoJSON, Tajikistan drawn strongest)
 *   regions    URL of the regions' outlines (GeoJSON keyed by iso_3166_2)
 *   highlight  region codes drawn stronger (the region page's, the list's region filter)
 *   fit        "regions": frame the highlighted regions rather than the deposits
 *   points     the deposits, as the map data answers them (below), or
 *   pointsUrl  a URL answering them (the list's filtered deposits, a region's)
 *   filterUrl  the deposit list's URL to which a drawn box adds `bbox` (no box control
 *              without it)
 *   box        the list's active bbox [minLon, minLat, maxLon, maxLat], drawn and framed
 *   tiles      optional {url, attribution} of an online tile layer
 * The deposits come compact, one request for the whole filtered list:
 *   {"url": [head, tail], "deposits": [[public_id, name, latitude, longitude], ...],
 *    "truncated": false}
 * a deposit's page being head + public_id + tail.
 *
 * Labels in the reader's language are data attributes of the map's figure (_map.html).
 * When the deposits are clustered, the element gets data-markers="N" and the status
 * line (data-map-status) says how many deposits are shown. The browser's performance
 * timeline holds the measures "deposit-map-data" (the request, JSON read) and
 * "deposit-map-draw" (markers made and clustered), and the mark "deposit-map-drawn"
 * (`make bench-map` reads them).
 */
(function () {
  "use strict";

  var TAJIKISTAN_BOUNDS = [[36.6, 67.3], [41.1, 75.2]];
  var BOX_DIGITS = 4; // about 10 m: finer than any published coordinate

  function borderStyle(feature) {
    if (feature.properties.name === "Tajikistan") {
      return { color: "#1f4e79", weight: 2, fillColor: "#dbe8f4", fillOpacity: 0.5 };
    }
    return { color: "#8a8a8a", weight: 1, fillColor: "#f2f2f2", fillOpacity: 0.6 };
  }

  function regionStyle(highlighted) {
    return function (feature) {
      if (highlighted.indexOf(feature.properties.iso_3166_2) >= 0) {
        return {
          color: "#1f4e79", weight: 3, fillColor: "#9dc3e6", fillOpacity: 0.25,
          className: "region-outline highlighted"
        };
      }
      return {
        color: "#4a6f94", weight: 1, dashArray: "4 4", fill: false, opacity: 0.8,
        className: "region-outline"
      };
    };
  }

  /* A div icon that names itself to screen readers (markers and clusters are buttons
   * reached with Tab: Leaflet gives them tabindex and role="button"). */
  var LabelledIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var icon = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      icon.setAttribute("aria-label", this.options.label);
      return icon;
    }
  });

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(url + ": " + response.status); }
      return response.json();
    });
  }

  function init(element) {
    var config = JSON.parse(document.getElementById(element.dataset.map).textContent);
    var figure = element.closest("figure") || element.parentNode;
    var labels = figure.dataset;
    var status = figure.querySelector("[data-map-status]");
    var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var highlighted = config.highlight || [];
    // The clusters are built for every zoom level the map allows, so it allows those a
    // reader of a country's deposits uses: the country whole (5) to a few metres (16).
    var map = L.map(element, { scrollWheelZoom: false, minZoom: 5, maxZoom: 16 });
    map.fitBounds(TAJIKISTAN_BOUNDS);
    map.attributionControl.addAttribution("Borders: Natural Earth");
    if (config.tiles) {
      L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution }).addTo(map);
    }

    var framed = false; // a box or a region has set the view: the deposits leave it be
    if (config.box) {
      var box = boxBounds(config.box);
      L.rectangle(box, { interactive: false, className: "map-box", weight: 2, fill: false })
        .addTo(map);
      map.fitBounds(box.pad(0.1));
      framed = true;
    }

    getJSON(config.outline).then(function (borders) {
      L.geoJSON(borders, { interactive: false, style: borderStyle }).addTo(map).bringToBack();
    });
    if (config.regions) {
      getJSON(config.regions).then(function (regions) {
        var layer = L.geoJSON(regions, { interactive: false, style: regionStyle(highlighted) })
          .addTo(map);
        element.dataset.regions = String(regions.features.length);
        if (config.fit === "regions" && !framed) {
          var chosen = L.featureGroup(layer.getLayers().filter(function (region) {
            return highlighted.indexOf(region.feature.properties.iso_3166_2) >= 0;
          }));
          if (chosen.getLayers().length) {
            map.fitBounds(chosen.getBounds().pad(0.05));
            framed = true;
          }
        }
      });
    }
    if (config.filterUrl) { addBoxControl(map, element, config.filterUrl, labels, status); }

    var clusters = L.markerClusterGroup({
      // Clusters 100,000 markers in slices of 200 ms, the page answering in between.
      chunkedLoading: true,
      chunkDelay: 10,
      showCoverageOnHover: false,
      maxClusterRadius: 50,
      iconCreateFunction: function (cluster) {
        var count = cluster.getChildCount();
        var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
        var text = numbers.format(count);
        return new LabelledIcon({
          html: "<div><span>" + text + "</span></div>",
          className: "marker-cluster marker-cluster-" + size,
          iconSize: L.point(40, 40),
          label: labels.cluster.replace("%s", text)
        });
      }
    });
    map.addLayer(clusters);
    // One popup for the whole map, made when a marker is clicked (or Enter pressed on it):
    // 100,000 markers each holding their own would cost seconds and memory.
    var opener = null;
    function openDeposit(event) {
      var row = event.layer.deposit;
      if (!row) { return; }
      var link = document.createElement("a");
      link.href = deposits.url[0] + row[0] + deposits.url[1];
      link.textContent = row[1];
      opener = event.layer;
      L.popup({ offset: [0, -4] }).setLatLng(event.layer.getLatLng()).setContent(link).openOn(map);
      link.focus(); // from the keyboard, Enter on a marker then Enter again opens the deposit
    }
    clusters.on("click", openDeposit);
    // Enter on a focused marker or cluster does what a click does (Leaflet reports the key
    // as a keypress of the layer; the cluster plugin handles only clicks).
    clusters.on("keypress", function (event) {
      if (event.originalEvent.keyCode === 13) { openDeposit(event); }
    });
    clusters.on("clusterkeypress", function (event) {
      if (event.originalEvent.keyCode === 13) {
        // The plugin's click on a cluster ("click" of a cluster is fired as "clusterclick"):
        // zooms in (spreads the markers out where they share a place), then gives the
        // focus back to the map, as it does for a key.
        clusters.fire("click", { layer: event.layer, originalEvent: event.originalEvent });
      }
    });
    map.on("popupclose", function (event) {
      // Closed with Escape or its close button while the focus was in it: back to the
      // marker, not to the start of the page.
      var icon = opener && opener.getElement();
      var active = document.activeElement;
      if (icon && (active === document.body || event.popup.getElement().contains(active))) {
        icon.focus();
      }
    });

    var deposits = null;
    // Every marker shares one icon; its title names the deposit (its accessible name).
    var markerIcon = L.divIcon({ className: "deposit-marker", iconSize: [14, 14] });

    function draw(data) {
      deposits = data;
      var markers = data.deposits.map(function (row) {
        var marker = L.marker([row[2], row[3]], { icon: markerIcon, title: row[1] });
        marker.deposit = row;
        return marker;
      });
      var count = markers.length;
      performance.mark("deposit-map-cluster");
      clusters.options.chunkProgress = function (done, total) {
        if (done < total) { return; }
        performance.measure("deposit-map-draw", "deposit-map-cluster");
        performance.mark("deposit-map-drawn");
        if (!framed && count === 1) {
          map.setView(markers[0].getLatLng(), config.zoom || 8);
        } else if (!framed && count > 1) {
          // The deposits' own bounds: the clusters' are recalculated only after this call.
          var bounds = L.latLngBounds(markers.map(function (m) { return m.getLatLng(); }));
          map.fitBounds(bounds.pad(0.2), { maxZoom: 9 });
        }
        element.dataset.markers = String(count);
        if (status) {
          var template = data.truncated ? labels.truncated : labels.shown;
          status.textContent = template.replace("%s", numbers.format(count));
          status.dataset.text = status.textContent;
        }
      };
      clusters.addLayers(markers);
    }

    if (config.points) {
      draw(config.points);
    } else if (config.pointsUrl) {
      performance.mark("deposit-map-request");
      getJSON(config.pointsUrl).then(function (data) {
        performance.measure("deposit-map-data", "deposit-map-request");
        draw(data);
      });
    } else {
      element.dataset.markers = "0";
    }
  }

  function boxBounds(box) {
    return L.latLngBounds([box[1], box[0]], [box[3], box[2]]);
  }

  function clamp(value, limit) {
    return Math.max(-limit, Math.min(limit, value));
  }

  /* `minLon,minLat,maxLon,maxLat` of the bounds, rounded outwards so the box holds every
   * deposit drawn inside it. */
  function bboxParameter(bounds) {
    var scale = Math.pow(10, BOX_DIGITS);
    var down = function (v, limit) { return clamp(Math.floor(v * scale) / scale, limit); };
    var up = function (v, limit) { return clamp(Math.ceil(v * scale) / scale, limit); };
    return [
      down(bounds.getWest(), 180), down(bounds.getSouth(), 90),
      up(bounds.getEast(), 180), up(bounds.getNorth(), 90)
    ].map(function (v) { return v.toFixed(BOX_DIGITS); }).join(",");
  }

  function filterBy(filterUrl, bounds) {
    var url = new URL(filterUrl, window.location.href);
    url.searchParams.delete("bbox");
    url.searchParams.delete("page");
    // Commas as they are (searchParams would write %2C): a URL a reader can read and share.
    var query = url.searchParams.toString();
    url.search = (query ? query + "&" : "") + "bbox=" + bboxParameter(bounds);
    window.location.assign(url.toString());
  }

  /* A button that starts drawing: drag a rectangle with the mouse or a finger, or, from
   * the keyboard, move the map (arrow keys, + and -) and press Enter to take the area
   * shown. Escape, or the button again, cancels. */
  function addBoxControl(map, element, filterUrl, labels, status) {
    var control = L.control({ position: "topleft" });
    var button, drawing = false, start = null, rectangle = null;

    function stop() {
      drawing = false;
      start = null;
      if (rectangle) { map.removeLayer(rectangle); rectangle = null; }
      map.dragging.enable();
      element.classList.remove("drawing-box");
      button.setAttribute("aria-pressed", "false");
      button.textContent = labels.box;
      if (status && status.dataset.text) { status.textContent = status.dataset.text; }
    }

    function begin() {
      drawing = true;
      map.dragging.disable();
      element.classList.add("drawing-box");
      button.setAttribute("aria-pressed", "true");
      button.textContent = labels.boxCancel;
      if (status) { status.textContent = labels.boxHelp; }
    }

    function latLngOf(event) {
      return map.mouseEventToLatLng(event);
    }

    control.onAdd = function () {
      var container = L.DomUtil.create("div", "leaflet-bar map-box-control");
      button = L.DomUtil.create("button", "", container);
      button.type = "button";
      button.textContent = labels.box;
      button.setAttribute("aria-pressed", "false");
      L.DomEvent.disableClickPropagation(container);
      L.DomEvent.on(button, "click", function () {
        if (drawing) { stop(); return; }
        begin();
        element.focus(); // the keyboard moves the map from here; Enter takes the view
      });
      return container;
    };
    control.addTo(map);

    element.addEventListener("pointerdown", function (event) {
      if (!drawing || event.button !== 0 || event.target.closest(".leaflet-control")) { return; }
      start = latLngOf(event);
      element.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    element.addEventListener("pointermove", function (event) {
      if (!drawing || !start) { return; }
      var bounds = L.latLngBounds(start, latLngOf(event));
      if (rectangle) {
        rectangle.setBounds(bounds);
      } else {
        rectangle = L.rectangle(bounds, { interactive: false, className: "map-box", weight: 2 })
          .addTo(map);
      }
    });
    element.addEventListener("pointerup", function (event) {
      if (!drawing || !start) { return; }
      var bounds = L.latLngBounds(start, latLngOf(event));
      start = null;
      var size = map.latLngToContainerPoint(bounds.getNorthEast())
        .subtract(map.latLngToContainerPoint(bounds.getSouthWest()));
      if (Math.abs(size.x) < 4 || Math.abs(size.y) < 4) { return; } // a click, not a box
      filterBy(filterUrl, bounds);
    });
    element.addEventListener("keydown", function (event) {
      if (!drawing) { return; }
      if (event.key === "Escape") {
        stop();
        button.focus();
      } else if (event.key === "Enter" && event.target === element) {
        event.preventDefault();
        filterBy(filterUrl, map.getBounds());
      }
    });
  }

  document.querySelectorAll("[data-map]").forEach(init);
})();
