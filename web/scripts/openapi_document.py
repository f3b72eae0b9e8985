"""Print the app's OpenAPI document, as /openapi.json serves it, without starting a server.

`make web-client` writes it to web/openapi.json and generates web/src/api/schema.d.ts from it;
tests/unit/test_web_client.py fails when the committed copy no longer matches the app.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def document_text() -> str:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.path.insert(0, str(PROJECT_DIR))
    from app import app
    from chalicelib.api.meta import VERSION
    from chalicelib.api.openapi import openapi_document

    return json.dumps(openapi_document(app, version=VERSION), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document_text())
