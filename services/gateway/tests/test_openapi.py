"""The OpenAPI document is valid, covers every route, and documents what each route reads."""
from openapi_spec_validator import validate

from services.gateway import openapi
from services.gateway.service import GatewayService

CONTRACT_PATHS = [  # DESIGN.md's core paths keep their meaning
    ("post", "/api/accounts"), ("post", "/api/sessions"), ("get", "/api/me"), ("put", "/api/me/profile"),
    ("get", "/api/skills"), ("post", "/api/requests"), ("get", "/api/requests/{request_id}"),
    ("patch", "/api/requests/{request_id}"), ("post", "/api/requests/{request_id}/close"),
    ("get", "/api/search/requests"), ("get", "/api/search/volunteers"), ("get", "/api/matches"),
    ("post", "/api/matches/{match_id}/accept"), ("post", "/api/matches/{match_id}/decline"),
    ("get", "/api/notifications"), ("get", "/api/matches/{match_id}/messages"),
    ("post", "/api/matches/{match_id}/messages"), ("get", "/healthz"),
]


def test_the_document_is_valid_openapi_3():
    validate(openapi.build(GatewayService))


def test_every_route_is_documented_and_nothing_else():
    document = openapi.build(GatewayService)
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    routed = {(method.lower(), openapi.PATH_PARAM.sub(r"{\1}", url))
              for method, url, _, _ in openapi.routes(GatewayService)}
    assert documented == routed
    assert set(CONTRACT_PATHS) <= documented


def test_every_route_has_a_summary_and_every_body_a_schema():
    document = openapi.build(GatewayService)
    missing = []
    for method, url, name, handler in openapi.routes(GatewayService):
        operation = document["paths"][openapi.PATH_PARAM.sub(r"{\1}", url)][method.lower()]
        if operation["summary"] == name.replace("_", " "):
            missing.append(f"{method} {url}: no docstring")
        if openapi.reads_body(handler):
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            if "$ref" not in schema:
                missing.append(f"{method} {url}: reads a body but declares no schema (@accepts)")
    assert not missing, "\n".join(missing)


def test_signed_in_routes_say_so():
    document = openapi.build(GatewayService)
    assert "security" not in document["paths"]["/api/accounts"]["post"]
    assert document["paths"]["/api/me"]["get"]["security"] == [{"bearer": []}]
    assert {} in document["paths"]["/api/requests/{request_id}"]["get"]["security"]  # optional
