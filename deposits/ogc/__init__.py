"""The deposits as an OGC API - Features service (Part 1 Core with GeoJSON and OpenAPI 3.0,
Part 3 queryables as query parameters), so QGIS, ArcGIS and GDAL add the registry as a layer.

- `query`: the query parameters of the service, parsed and checked (unknown ones are a 400).
- `documents`: the JSON documents (landing page, collections, features, queryables);
  `feature` is the one definition of a deposit's feature, on every database.
- `openapi`: the service description (`service-desc`).
- `views`, `urls`: the endpoints under `/ogc/`.

Filters are `DepositFilterSet`'s and visibility is `visible_to`'s, as everywhere else.
"""
