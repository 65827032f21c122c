"""Open311 GeoReport v2: the standard 311 interface over the work-order platform."""
