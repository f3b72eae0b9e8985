"""The request and response models of the routes, one module per route module (chalicelib/api/*.py).

A route names its models (``body="ServiceIn"``); a view imports what it parses inside itself, and
the OpenAPI document resolves the rest, so the API's cold start loads neither pydantic nor a model.
"""
