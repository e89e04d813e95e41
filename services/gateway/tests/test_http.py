"""The gateway's HTTP plumbing without servers: bodies bounded in nesting, JSON errors on /api."""
import json

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.common.errors import ValidationFailed
from services.gateway.http import (MAX_DEPTH, call_key, idempotency_key, json_errors_for_api, read_json,
                                   with_security_headers)


def request_with(body):
    return Request(EnvironBuilder(method="POST", data=body, content_type="application/json").get_environ())


@pytest.mark.parametrize("body", ["[" * 60000, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
                                  '{"a":' * 40 + "1" + "}" * 40])
def test_a_body_nested_too_deeply_is_a_clear_400(body):
    with pytest.raises(ValidationFailed) as error:
        read_json(request_with(body))
    assert set(error.value.fields) == {"_body"}


def test_ordinary_bodies_pass():
    assert read_json(request_with('{"skills": ["legal"], "languages": [{"code": "fa"}]}'))["skills"] == ["legal"]
    assert read_json(request_with("")) == {}


def html_app(status):
    def app(environ, start_response):
        return Response("<html>werkzeug</html>", status=status, mimetype="text/html",
                        headers={"Allow": "GET"} if status == 405 else None)(environ, start_response)
    return app


@pytest.mark.parametrize("status,code", [(404, "not_found"), (405, "method_not_allowed")])
def test_unknown_api_paths_answer_in_the_contracts_json(status, code):
    client = Client(with_security_headers(json_errors_for_api(html_app(status))))
    response = client.get("/api/no-such-thing")
    assert response.status_code == status and response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data())["error"]["code"] == code
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if status == 405:
        assert response.headers["Allow"] == "GET"
    # Outside /api (the web pages to come) the response is left alone.
    assert Client(json_errors_for_api(html_app(status))).get("/somewhere").headers["Content-Type"].startswith("text/html")


def test_a_creating_call_carries_a_key_whether_or_not_the_client_sent_one():
    """Without the client's key, one made for the call: the call message delivered again after a
    broker restart finds what it stored; with it, the client's own retry does too."""
    assert call_key("a-client-key") == call_key("a-client-key") == idempotency_key("a-client-key")
    made = {call_key(None) for _ in range(3)} | {call_key("  ")}
    assert len(made) == 4 and all(len(key) == 64 and int(key, 16) >= 0 for key in made)
