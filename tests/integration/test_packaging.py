"""`make package`: Chalice's SAM output with infra/template.yaml merged in passes cfn-lint; the zip ships
bytecode."""

import importlib.util
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from bench.cold_start import handler_modules, lambda_environment

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCHEMAS = PROJECT_DIR / "chalicelib" / "api" / "schemas"  # what the API's first request with a body loads
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    subprocess.run(
        [
            str(BIN / "chalice"),
            "package",
            "--stage",
            "prod",
            "--merge-template",
            "infra/template.yaml",
            str(out),
        ],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    subprocess.run(
        [sys.executable, "-m", "infra.bytecode", str(out / "deployment.zip"), str(out / "sam.yaml")],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def _load(path):
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass


def test_the_packaged_template_passes_cfn_lint(packaged):
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(packaged / "sam.yaml")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_template_carries_our_tables_with_the_prod_policy(packaged):
    template = _load(packaged / "sam.yaml")
    resources = template["Resources"]
    tables = {k for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert {"UsersTable", "AuthTable", "OrgsTable", "MembershipsTable", "InvitationsTable"} <= tables
    api_role = next(v for k, v in resources.items() if v["Type"] == "AWS::IAM::Role")
    statements = api_role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert any("dynamodb:PutItem" in s["Action"] for s in statements)
    assert not any(s["Action"] in ("*", "dynamodb:*") for s in statements)


def test_the_lambda_zip_has_only_the_app(packaged):
    names = zipfile.ZipFile(packaged / "deployment.zip").namelist()
    assert "app.py" in names
    assert any(n.startswith("chalicelib/") for n in names)
    assert not any(n.startswith(("infra/", "tests/", "moto/", "pytest", "bench/")) for n in names)


def test_the_checker_reports_partial_batch_failures(packaged):
    template = _load(packaged / "sam.yaml")
    checker = template["Resources"]["RunProbeBatch"]["Properties"]
    source = checker["Events"]["RunProbeBatchSqsEventSource"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert checker["Timeout"] > 60  # longer than the longest probe timeout
    queue = template["Resources"]["ProbeQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= checker["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3


@pytest.mark.parametrize(
    ("function", "queue"), [("RouteAlerts", "AlertIntakeQueue"), ("IngestAlerts", "AlertQueue")]
)
def test_the_alert_consumers_report_partial_batch_failures_within_their_queues_visibility(
    packaged, function, queue
):
    template = _load(packaged / "sam.yaml")
    consumer = template["Resources"][function]["Properties"]
    source = consumer["Events"][f"{function}SqsEventSource"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    properties = template["Resources"][queue]["Properties"]
    assert properties["VisibilityTimeout"] >= consumer["Timeout"]
    assert properties["RedrivePolicy"]["maxReceiveCount"] == 5


def test_api_gateway_throttling_answers_503_with_retry_after_never_429(packaged):
    """Alert senders drop an alert on any 4xx; the deployed API's own throttling must answer a 5xx."""
    import boto3
    from cfnlint.decode import decode
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template, errors = decode(str(packaged / "sam.yaml"))
    assert not errors
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":  # as `aws cloudformation package` leaves it
            resource["Properties"]["CodeUri"] = "s3://bucket/deployment.zip"
    deployed = Translator({}, Parser(), boto_session=boto3.Session(region_name="us-east-1")).translate(
        template, {}, get_managed_policy_map=dict
    )
    (api,) = [r for r in deployed["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    throttled = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert throttled["statusCode"] == "503"
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    body = json.loads(throttled["responseTemplates"]["application/json"])
    assert body["Code"] == "ServiceUnavailableError"


def test_the_websocket_api_its_tables_and_a_push_policy_scoped_to_it(packaged):
    template = _load(packaged / "sam.yaml")
    resources = template["Resources"]
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    for table in ("RealtimeConnectionsTable", "OrgEventsTable"):
        ttl = resources[table]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expires_at", "Enabled": True}
    for table in ("ServicesTable", "IncidentEventsTable", "IncidentsTable"):
        assert resources[table]["Properties"]["StreamSpecification"]["StreamViewType"]

    policy = resources["RealtimePushPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["execute-api:ManageConnections"]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${WebsocketAPI}/api/*"
    }
    roles = {role["Ref"] for role in policy["Roles"]}
    assert roles == {
        "PublishIncidentChangesRole",
        "PublishServiceChangesRole",
        "PublishTimelineChangesRole",
        "WebsocketMessageRole",
    }
    assert all(resources[role]["Type"] == "AWS::IAM::Role" for role in roles)


def test_the_publishers_read_their_streams_with_partial_batches_and_know_the_api_id(packaged):
    resources = _load(packaged / "sam.yaml")["Resources"]
    for function, table in (
        ("PublishIncidentChanges", "IncidentsTable"),
        ("PublishServiceChanges", "ServicesTable"),
        ("PublishTimelineChanges", "IncidentEventsTable"),
    ):
        properties = resources[function]["Properties"]
        assert properties["Environment"]["Variables"]["VIGIL_WEBSOCKET_API_ID"] == {"Ref": "WebsocketAPI"}
        source = properties["Events"][f"{function}DynamodbEventSource"]["Properties"]
        assert source["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert source["BisectBatchOnFunctionError"] is True
        assert (
            source["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
            == "RealtimeStreamFailureQueue"
        )
    api_env = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api_env["VIGIL_WEBSOCKET_API_ID"] == {"Ref": "WebsocketAPI"}


def test_the_status_publisher_writes_only_under_status_and_reads_its_streams(packaged):
    resources = _load(packaged / "sam.yaml")["Resources"]
    policy = resources["StatusPublishPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["s3:DeleteObject", "s3:PutObject"]
    assert statement["Resource"] == {"Fn::Sub": "${WebBucket.Arn}/status/*"}
    assert [role["Ref"] for role in policy["Roles"]] == ["PublishStatusPagesRole"]
    assert resources["PublishStatusPagesRole"]["Type"] == "AWS::IAM::Role"

    consumer = resources["PublishStatusPages"]["Properties"]
    assert consumer["Environment"]["Variables"]["VIGIL_STATUS_BUCKET"] == {"Ref": "WebBucket"}
    source = consumer["Events"]["PublishStatusPagesSqsEventSource"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["StatusPublishQueue"]["Properties"]
    assert queue["FifoQueue"] is True and queue["DelaySeconds"] == 5
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StatusPublishDeadLetterQueue", "Arn"]
    }

    for function, table in (
        ("StatusOnServiceChange", "ServicesTable"),
        ("StatusOnPageChange", "StatusPagesTable"),
        ("StatusOnPostChange", "StatusPostsTable"),
        ("StatusOnWindowChange", "MaintenanceWindowsTable"),
    ):
        source = resources[function]["Properties"]["Events"][f"{function}DynamodbEventSource"]["Properties"]
        assert source["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert source["BisectBatchOnFunctionError"] is True

    behaviours = resources["WebDistribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
    status = next(b for b in behaviours if b["PathPattern"] == "/status/*")
    assert status["TargetOriginId"] == "web"
    assert status["CachePolicyId"] == {"Ref": "StatusPagesCachePolicy"}
    cache = resources["StatusPagesCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 30
    routing = status["FunctionAssociations"][0]["FunctionARN"]
    assert routing == {"Fn::GetAtt": ["StatusPageRouting", "FunctionARN"]}


PYTHON_3_11_MAGIC = (3495).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = (1).to_bytes(4, "little")  # PEP 552 flags: hash-based, source not checked


def test_the_lambda_zip_has_an_unchecked_hash_pyc_of_python_3_11_for_every_source(packaged):
    assert importlib.util.MAGIC_NUMBER == PYTHON_3_11_MAGIC  # the runtime of every function in sam.yaml
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        names = set(archive.namelist())
        sources = sorted(n for n in names if n.endswith(".py"))
        assert "app.py" in sources and "chalicelib/entry/api.py" in sources
        assert len([n for n in sources if n.startswith("chalicelib/")]) > 100
        for source in sources:
            folder, _, name = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{name[:-3]}.cpython-311.pyc".lstrip("/")
            assert pyc in names, source
            header = archive.read(pyc)[:16]
            assert header[:4] == PYTHON_3_11_MAGIC, pyc
            assert header[4:8] == UNCHECKED_HASH, pyc
            assert header[8:] == importlib.util.source_hash(archive.read(source)), pyc
        assert names == {*sorted(names)}  # no duplicate entries
        assert archive.namelist() == sorted(archive.namelist())  # deterministic: sorted, fixed times
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


_COUNT_COMPILES = """
import importlib, importlib.machinery, json, sys
sys.path.insert(0, sys.argv[1])
compiled = []
source_to_code = importlib.machinery.SourceFileLoader.source_to_code
def counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return source_to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = counting
for module in sys.argv[2:]:
    importlib.import_module(module)
files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
loaded = [path for path in files if path.startswith(sys.argv[1])]
print(json.dumps({"compiled": compiled, "loaded": loaded}))
"""


def test_every_handler_module_imports_from_the_read_only_zip_without_compiling(packaged, tmp_path):
    """Lambda's /var/task: read-only, no bytecode written; every module of ours and of the packages it
    imports comes from the zip's .pyc, none is compiled from source at a cold start, nor when the API's
    first request with a body loads its route's models (and pydantic)."""
    task = tmp_path / "task"
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        archive.extractall(task)
    before = sorted(p.relative_to(task) for p in task.rglob("*"))
    for path in [*task.rglob("*"), task]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    schemas = sorted(f"chalicelib.api.schemas.{p.stem}" for p in SCHEMAS.glob("[!_]*.py"))
    modules = ["app", *sorted(handler_modules()), *schemas]
    env = lambda_environment() | {"PYTHONDONTWRITEBYTECODE": "1"}
    try:
        # -S: no site-packages of this venv, only the zip (and the standard library, as on Lambda).
        done = subprocess.run(
            [sys.executable, "-S", "-B", "-c", _COUNT_COMPILES, str(task), *modules],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        for path in [task, *task.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert done.returncode == 0, done.stderr
    imports = json.loads(done.stdout)
    assert imports["compiled"] == []
    loaded = imports["loaded"]
    assert any(path.endswith("chalicelib/entry/api.py") for path in loaded)
    assert any(path.endswith("botocore/client.py") for path in loaded)
    assert any(path.endswith("pydantic/main.py") for path in loaded)
    assert sorted(p.relative_to(task) for p in task.rglob("*")) == before  # nothing written
