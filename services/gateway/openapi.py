"""The OpenAPI 3 document of the public API, generated from the gateway's own routes.

Paths, methods and path parameters come from the nameko `@http` entrypoints; summaries from the
handlers' docstrings; request bodies and query parameters from the marshmallow schemas declared
with `@accepts`; whether a route needs a bearer token from the handler itself. Generated, so it
cannot drift from the routes; `services/gateway/tests/test_openapi.py` checks it is valid and
complete.
"""
import functools
import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields as ma_fields, validate
from nameko.web.handlers import HttpRequestHandler

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def accepts(body=None, query=None, path=None, headers=None):
    """Declare the marshmallow schema of a route's JSON body and/or query string, the JSON schema
    of path parameters that are not free strings (`path={"report": {"enum": [...]}}`), and of
    optional request headers (`headers={"Idempotency-Key": {...}}`)."""
    def mark(handler):
        handler.openapi = {"body": body, "query": query, "path": path or {}, "headers": headers or {}}
        return handler
    return mark


def routes(service_cls):
    """[(method, url, name, handler)] of every HTTP entrypoint of `service_cls` that belongs to the
    API (the web pages of `web/` are HTML for people, and `intake/` takes providers' webhooks in
    their formats: neither is part of the programs' contract)."""
    found = []
    for name in dir(service_cls):
        handler = getattr(service_cls, name)
        module = getattr(inspect.unwrap(handler), "__module__", None) or ""
        if module.startswith(("services.gateway.web", "services.gateway.intake")):
            continue  # pages for people; providers' webhooks, in the providers' own formats
        for entrypoint in getattr(handler, "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler):
                found.append((entrypoint.method, entrypoint.url, name, handler))
    return sorted(found, key=lambda route: (route[1], route[0]))


def _source(handler):
    return inspect.getsource(inspect.unwrap(handler))


def auth_of(handler):
    source = _source(handler)
    if "required=False" in source:
        return "optional"
    if "self._viewer(request)" in source or "bearer_token(request)" in source:
        return "required"
    return "none"


def reads_body(handler):
    return "read_json(request)" in _source(handler)


def success_status(handler):
    """The status a route answers when it succeeds: 201 (created), 204 (no content) or 200."""
    source = _source(handler)
    for status in ("201", "204"):
        if f"return {status}," in source:
            return status
    return "200"


# Beside the route's own: what any request may get. 401 when a token is missing, wrong or expired
# (also a wrong password at sign-in); 413 for a body over 64 KB; 414 for a request line over the
# server's limit; 422 for input the document allows but the service refuses for a reason no schema
# can say (text that may identify someone, a cursor from no previous page, a private webhook host).
COMMON_ERRORS = ("400", "401", "404", "409", "413", "414", "422", "429", "503")


def _no_nul(converter, field, **kwargs):
    """Text fields say what StrictSchema checks: no NUL character (unless a pattern says more)."""
    if isinstance(field, ma_fields.String) and not field.metadata.get("pattern") and not _has_choices(field):
        return {"pattern": "^[^\\x00]*$"}
    return {}


def _has_choices(field):
    return any(isinstance(v, (validate.OneOf, validate.Regexp)) for v in field.validators)


def build(service_cls, version="1.0.0"):
    marshmallow = MarshmallowPlugin()
    spec = APISpec(title="Allies API", version=version, openapi_version="3.0.3",
                   plugins=[marshmallow],
                   info={"description": "Connects people at risk with people who can help. "
                                        "Errors are {\"error\": {\"code\", \"message\", \"fields\"}}."})
    marshmallow.converter.add_attribute_function(_no_nul)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", {"type": "object", "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}})
    error = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

    paths = {}
    for method, url, name, handler in routes(service_cls):
        path = PATH_PARAM.sub(r"{\1}", url)
        declared = getattr(inspect.unwrap(handler), "openapi", getattr(handler, "openapi", {}))
        doc = inspect.getdoc(inspect.unwrap(handler)) or name.replace("_", " ")
        operation = {
            "operationId": name,
            "summary": doc.splitlines()[0],
            "parameters": [{"in": "path", "name": param, "required": True,
                            "schema": declared.get("path", {}).get(param, {"type": "string"})}
                           for param in PATH_PARAM.findall(url)],
            "responses": {success_status(handler): {"description": "OK"},
                          **{status: error for status in COMMON_ERRORS}},
        }
        if len(doc.splitlines()) > 1:
            operation["description"] = doc
        if declared.get("query"):
            operation["parameters"].append({"in": "query", "schema": declared["query"]})
        for header, schema in declared.get("headers", {}).items():
            operation["parameters"].append({"in": "header", "name": header, "required": False, "schema": schema})
        if reads_body(handler):
            schema = declared.get("body") or {"type": "object"}
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        auth = auth_of(handler)
        if auth != "none":
            operation["security"] = [{"bearer": []}] + ([{}] if auth == "optional" else [])
            operation["responses"]["403"] = error
        paths.setdefault(path, {})[method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@functools.lru_cache(maxsize=4)
def document(service_cls):
    """`build`, once per service class (routes do not change while it runs)."""
    return build(service_cls)
