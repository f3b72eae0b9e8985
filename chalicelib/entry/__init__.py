"""Handler modules of the Lambda functions that would otherwise import all of app.py.

Lambda imports a function's handler module at each cold start, from a zip without bytecode, so every
module imported there is compiled then. `chalice package` points the event handlers of a blueprint at
that blueprint's module (chalicelib/events/*.py: they import only their own use cases), but the REST API
and the WebSocket handlers at app.py, which wires everything. infra/template.yaml points those at the
modules here instead: `api` (every route, no event handler) and `websocket` ($connect, $default,
$disconnect). app.py extends the very app of `api` with the event handlers and WebSocket routes, so
`chalice package`, the local stack and the tests still see one app.
"""
