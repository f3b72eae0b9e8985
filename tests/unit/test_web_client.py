"""The dashboard's typed client is generated from the app's OpenAPI document: when a route or a schema
changes, these fail until `make web-client` regenerates web/openapi.json and web/src/api/schema.d.ts."""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
_spec = importlib.util.spec_from_file_location("openapi_document", WEB / "scripts" / "openapi_document.py")
assert _spec and _spec.loader
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
document_text = _module.document_text
REGENERATE = "the app's API changed: run `make web-client` and commit web/openapi.json and the schema"


def test_the_committed_openapi_document_is_the_apps():
    committed = json.loads((WEB / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(document_text()), REGENERATE


def test_the_generated_client_types_match_the_committed_document(tmp_path):
    generator = WEB / "node_modules" / ".bin" / "openapi-typescript"
    if not generator.exists() or shutil.which("node") is None:
        pytest.skip("web/node_modules is not installed (make web-test installs it)")
    output = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(generator), "openapi.json", "--default-non-nullable", "false", "--output", str(output)],
        cwd=WEB,
        check=True,
        capture_output=True,
    )
    committed = (WEB / "src" / "api" / "schema.d.ts").read_text(encoding="utf-8")
    assert output.read_text(encoding="utf-8") == committed, REGENERATE
