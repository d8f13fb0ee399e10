"""The HTTP API under /api/v1 (issue 6): JSON, bearer tokens, OpenAPI."""
