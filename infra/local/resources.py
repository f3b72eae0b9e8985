"""Create Vigil's AWS resources inside a moto server from infra/template.yaml.

The same template AWS gets is deployed to moto's CloudFormation; afterwards we
do the two things moto's CloudFormation skips: enabling TTL and verifying the
SES sender identity.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"


@dataclass
class DeployedStack:
    stack_name: str
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    stream_arns: dict[str, str] = field(default_factory=dict)  # table name -> stream ARN
    queue_urls: dict[str, str] = field(default_factory=dict)  # queue name -> URL
    web_bucket: str = ""  # the embedded S3's stand-in for the web app's bucket (status pages)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


PACKAGED_ONLY = "VigilPackagedOnly"


def is_local_resource(resource: dict[str, Any]) -> bool:
    """Fragments without a Type only patch the functions Chalice generates at packaging time, and a
    resource marked `Metadata: {VigilPackagedOnly: true}` refers to one of them (its role, its API)."""
    return "Type" in resource and not resource.get("Metadata", {}).get(PACKAGED_ONLY)


def _ttl_attributes(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> TTL attribute for every table whose template enables TTL."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        ttl = resource.get("Properties", {}).get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            found[logical_id] = ttl["AttributeName"]
    return found


def deploy(
    *,
    endpoint_url: str | None,
    region: str,
    name_prefix: str,
    email_sender: str,
    stack_name: str = "vigil-local",
    template_path: Path = TEMPLATE_PATH,
    timeout_seconds: float = 60.0,
) -> DeployedStack:
    session = boto3.session.Session(region_name=region)
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    template = load_template(template_path)

    template["Resources"] = {k: v for k, v in template["Resources"].items() if is_local_resource(v)}
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "NamePrefix", "ParameterValue": name_prefix}],
    )
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            break
        if status.endswith("FAILED") or status.startswith("ROLLBACK") or time.monotonic() > deadline:
            events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")]
            raise RuntimeError(f"stack {stack_name} ended in {status}: {reasons}")
        time.sleep(0.2)

    stack = DeployedStack(stack_name=stack_name)
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}

    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    ttl_attributes = _ttl_attributes(template)
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table":
            table_name = physical[logical_id]
            stack.tables[logical_id] = table_name
            if logical_id in ttl_attributes:
                # moto's CloudFormation does not apply TimeToLiveSpecification.
                dynamodb.update_time_to_live(
                    TableName=table_name,
                    TimeToLiveSpecification={
                        "Enabled": True,
                        "AttributeName": ttl_attributes[logical_id],
                    },
                )
            description = dynamodb.describe_table(TableName=table_name)["Table"]
            if description.get("LatestStreamArn"):
                stack.stream_arns[table_name] = description["LatestStreamArn"]
        elif resource["Type"] == "AWS::SQS::Queue":
            url = physical[logical_id]
            stack.queue_urls[url.rsplit("/", 1)[-1]] = url

    ses = session.client("ses", endpoint_url=endpoint_url)
    ses.verify_email_identity(EmailAddress=_bare_address(email_sender))

    # The web app's bucket (WebBucket) is packaged only: AWS names it, CloudFront fronts it. Locally
    # the publisher writes status pages to a bucket of the embedded S3 that settings name the same
    # way ("{prefix}web"), and the local web origin serves them from it.
    stack.web_bucket = f"{name_prefix}web"
    session.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=stack.web_bucket)
    return stack


def _bare_address(sender: str) -> str:
    """'Vigil <vigil@example.com>' -> 'vigil@example.com'."""
    if "<" in sender and sender.endswith(">"):
        return sender[sender.index("<") + 1 : -1]
    return sender
