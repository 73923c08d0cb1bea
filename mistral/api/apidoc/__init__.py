"""The OpenAPI 3 document of the v2 API, generated from the controllers and their contracts."""
