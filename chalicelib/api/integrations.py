"""/v1/orgs/{org_id}/integrations: where other tools send alerts. The key is shown once."""

from __future__ import annotations

from typing import Any

from chalicelib.api.access import require_member
from chalicelib.api.http import PAGE_PARAMS, VigilBlueprint, page_params, parse_body, path_id
from chalicelib.domain.clock import iso
from chalicelib.domain.roles import Role
from chalicelib.models.integrations import Integration

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.integrations")
TAGS = ("integrations",)


def integration_to_api(integration: Integration, *, key: str | None = None) -> dict[str, Any]:
    from chalicelib.usecases import integrations

    shown = key if key is not None else integrations.masked(integration.key_hint)
    return {
        "id": integration.integration_id,
        "name": integration.name,
        "type": integration.type,
        "service_id": integration.service_id,
        "severity": integration.severity,
        "key": shown,
        "ingest_url": integrations.ingest_url(shown),
        "created_at": iso(integration.created_at),
    }


@bp.route(
    "/v1/orgs/{org_id}/integrations",
    methods=("POST",),
    summary="Create an integration (admin); the answer is the only one that shows its key",
    status=201,
    body="CreateIntegrationRequest",
    response="IntegrationOut",
    tags=TAGS,
)
def create_integration(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.integrations import CreateIntegrationRequest
    from chalicelib.usecases import integrations

    actor = require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    request = parse_body(bp.current_request, CreateIntegrationRequest)
    created = integrations.create_integration(
        org_id,
        actor_id=actor.user_id,
        name=request.name,
        type=request.type,
        service_id=request.service_id,
        severity=request.severity,
    )
    return integration_to_api(created.integration, key=created.key)


@bp.route(
    "/v1/orgs/{org_id}/integrations",
    summary="Integrations, oldest first; keys masked",
    response="IntegrationList",
    tags=TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_integrations(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import integrations

    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = integrations.list_integrations(org_id, limit=limit, cursor=cursor)
    return {"items": [integration_to_api(i) for i in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/integrations/{integration_id}",
    summary="One integration; key masked",
    response="IntegrationOut",
    tags=TAGS,
)
def get_integration(org_id: str, integration_id: str) -> dict[str, Any]:
    from chalicelib.usecases import integrations

    require_member(bp.current_request, org_id)
    integration_id = path_id(integration_id, what="integration")
    return integration_to_api(integrations.get_integration(org_id, integration_id))


@bp.route(
    "/v1/orgs/{org_id}/integrations/{integration_id}",
    methods=("DELETE",),
    summary="Delete an integration (admin); its key stops working at once",
    status=204,
    tags=TAGS,
)
def delete_integration(org_id: str, integration_id: str) -> None:
    from chalicelib.usecases import integrations

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    integrations.delete_integration(org_id, path_id(integration_id, what="integration"))
