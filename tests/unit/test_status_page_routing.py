"""/status/{slug} is the page's index.html: the CloudFront function of the template and the local web
origin map paths the same way, and neither touches the SPA's routes."""

import json
import shutil
import subprocess

import pytest

from infra.local.resources import load_template
from infra.local.web import status_key

CASES = {
    "/status/acme": "status/acme/index.html",
    "/status/acme/": "status/acme/index.html",
    "/status/acme/index.html": "status/acme/index.html",
    "/status/acme/status.json": "status/acme/status.json",
    "/status/acme/feed.atom": "status/acme/feed.atom",
    "/status/acme/badge.svg": "status/acme/badge.svg",
}


@pytest.mark.parametrize(("path", "key"), CASES.items())
def test_the_local_web_origin_maps_status_paths_to_their_file(path, key):
    assert status_key(path) == key


@pytest.mark.parametrize("path", ["/", "/services/abc", "/status", "/statuses/x", "/v1/status/acme"])
def test_other_paths_are_not_status_pages(path):
    assert status_key(path) is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function")
def test_the_cloudfront_function_maps_them_the_same_way():
    code = load_template()["Resources"]["StatusPageRouting"]["Properties"]["FunctionCode"]
    script = code + (
        "const paths = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(paths.map(p => handler({request: {uri: p}}).uri)));"
    )
    out = subprocess.run(
        ["node", "-e", script, json.dumps(list(CASES))],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(out.stdout) == ["/" + key for key in CASES.values()]
