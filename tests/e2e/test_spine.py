"""The spine, end to end over HTTP against real RabbitMQ, FerretDB and Elasticsearch.

Story (SCENARIOS.md): a family in Iran needs a lawyer for an asylum claim, written in Persian.
A Persian-speaking lawyer is proposed and notified; a journalist without the skill is not.
"""

from tests.e2e.api import unique
from tests.support import wait_until


def test_a_request_reaches_the_right_volunteer_and_only_them(platform, person):
    lawyer = person(unique("nima-law"), "volunteer")
    journalist = person(unique("sara-press"), "volunteer")
    family = person(unique("omid-family"), "activist")

    assert lawyer.call("PUT", "/api/me/profile", {
        "skills": ["legal", "translation"], "languages": ["fa", "en"], "countries": ["IR", "DE"],
        "bio": "Asylum lawyer in Berlin.", "availability_hours": 10, "max_active_matches": 3,
    }).status_code == 200
    assert journalist.call("PUT", "/api/me/profile", {
        "skills": ["press"], "languages": ["fa", "en"], "countries": ["IR"],
    }).status_code == 200

    response = family.call("POST", "/api/requests", {
        "title": "وکیل برای پرونده پناهندگی در آلمان",
        "body": "Our family fled Iran and needs a lawyer for an asylum claim in Germany. "
                "خانواده ما به مشاوره حقوقی برای درخواست پناهندگی نیاز دارد.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
        "visibility": "public",
    })
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "open"
    request_id = response.json()["id"]

    # Hop 1: request_created -> search. Findable by Persian words and by facets.
    found = wait_until(lambda: _search(platform, family, q="پناهندگی", skill="legal"),
                       message="the request to be searchable")
    assert [item["id"] for item in found["items"]] == [request_id]
    assert found["facets"]["country"] == {"IR": 1}

    # Hop 2: request_created -> matching -> match_proposed, for the lawyer only. (Had the lawyer's
    # profile reached the matcher after the request, re-matching would propose it then.)
    matches = wait_until(lambda: lawyer.call("GET", "/api/matches").json()["items"], message="the proposal")
    assert [m["request_id"] for m in matches] == [request_id]
    assert matches[0]["status"] == "proposed"
    assert any("legal" in reason for reason in matches[0]["reasons"])
    assert journalist.call("GET", "/api/matches").json()["items"] == []

    # Hop 3: match_proposed -> notify -> the lawyer's inbox; nothing for the journalist.
    inbox = wait_until(lambda: _inbox_with(lawyer, request_id), message="the lawyer's notification")
    assert inbox["unread"] == 1
    assert inbox["items"][0]["kind"] == "match_proposed"
    assert "پناهندگی" not in inbox["items"][0]["text"]  # the notification does not repeat the request
    assert journalist.call("GET", "/api/notifications").json() == {"unread": 0, "items": []}

    # The activist sees the match on their side too.
    assert [m["request_id"] for m in family.call("GET", "/api/matches").json()["items"]] == [request_id]


def _search(platform, client, **params):
    result = client.call("GET", "/api/search/requests", **params).json()
    return result if result.get("total") else None


def _inbox_with(client, request_id):
    inbox = client.call("GET", "/api/notifications").json()
    return inbox if any(n["request_id"] == request_id for n in inbox["items"]) else None


def test_bad_input_names_each_field_and_changes_nothing(platform, person):
    family = person(unique("leyla"), "activist")
    response = family.call("POST", "/api/requests", {
        "title": "Hi", "body": "Need help with my case please", "skills": ["juggling"],
        "languages": ["farsi"], "country": "Iran", "urgency": "asap", "secret": "x",
    })
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"title", "skills.0", "languages.0", "country", "urgency", "secret"}
    assert family.call("GET", "/api/search/requests", q="case").json()["total"] == 0

    assert family.call("POST", "/api/requests", "not an object").status_code == 400
    anonymous = family.call("POST", "/api/requests", {}, )
    assert anonymous.status_code == 400  # signed in, but the body is empty: every field named
    assert {"title", "body", "skills", "languages", "country"} <= set(anonymous.json()["error"]["fields"])


def test_only_activists_post_and_only_signed_in_people_read_their_inbox(platform, person):
    volunteer = person(unique("arash"), "volunteer")
    response = volunteer.call("POST", "/api/requests", {
        "title": "A volunteer trying to post", "body": "Volunteers do not post needs.",
        "skills": ["press"], "languages": ["en"], "country": "IR"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"

    volunteer.token = "not-a-real-token"
    assert volunteer.call("GET", "/api/notifications").status_code == 401
    volunteer.token = None
    assert volunteer.call("GET", "/api/me").status_code == 401


def test_health_reports_every_service(platform):
    import requests
    body = requests.get(f"{platform.url}/healthz", timeout=10).json()
    assert body["status"] == "ok"
    assert set(body["services"]) == {"profiles", "requests", "matching", "notify", "search", "campaigns"}
