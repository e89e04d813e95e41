"""The web layer's plain parts: forms to schema input, where to go after signing in, languages,
server-drawn charts, and the templates rendering with what the services return."""
import re

import pytest
from werkzeug.datastructures import MultiDict

from services.gateway.web import charts, forms, i18n
from services.gateway.web.pages import FIELD_ERRORS, environment, safe_next


def test_forms_become_what_the_schemas_validate():
    form = MultiDict([("title", "  A title  "), ("body", "  kept as typed "), ("skills", "press"), ("skills", "legal"),
                      ("country", ""), ("availability_hours", "12"), ("max_active_matches", "many"),
                      ("verified_only", "on")])
    data = forms.pick(form, names=("title", "body", "country"), lists=("skills", "languages"),
                      integers=("availability_hours", "max_active_matches"), checkboxes=("verified_only", "confirm_public"))
    assert data == {"title": "A title", "body": "  kept as typed ", "skills": ["press", "legal"], "languages": [],
                    "availability_hours": 12, "max_active_matches": "many",  # the schema names the field
                    "verified_only": True, "confirm_public": False}


@pytest.mark.parametrize("target, expected", [
    ("/matches", "/matches"), ("/requests/abc?lang=fa", "/requests/abc?lang=fa"), (None, "/"), ("", "/"),
    ("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"),
    # Browsers and werkzeug drop tabs and newlines: each of these would become //evil.example.
    ("/\t/evil.example", "/"), ("/%09/evil.example", "/%09/evil.example"), ("/\n/evil.example", "/"),
    ("/\r/evil.example", "/"), ("/ /evil.example", "/"), ("/\x00/evil.example", "/"), ("/\u2028/evil.example", "/"),
])
def test_only_a_path_of_this_site_is_a_place_to_go_after_signing_in(target, expected):
    assert safe_next(target) == expected


def test_the_language_is_asked_for_then_remembered_then_english():
    assert i18n.choose("fa", "ru") == "fa"
    assert i18n.choose(None, "ru") == "ru"
    assert i18n.choose("xx", "zz") == "en"
    assert {lang for lang, direction in i18n.LANGUAGES.items() if direction == "rtl"} == {"fa", "ar"}


def test_names_dates_and_numbers_are_in_the_readers_language():
    fa, zh = i18n.Formatter("fa"), i18n.Formatter("zh")
    assert fa.country("IR") == "ایران" and zh.country("IR") == "伊朗"
    assert fa.language("fa") == "فارسی"
    assert fa.number(1234) == "۱٬۲۳۴"
    assert fa.skill("legal") == "مشاوره حقوقی و وکالت"
    assert fa.label("urgency", "critical") == "بحرانی: کسی همین حالا در خطر است"
    assert "2026" in i18n.Formatter("en").datetime("2026-11-22T10:00:00+00:00")


def test_every_field_error_a_form_can_show_has_words_in_every_language():
    for lang in i18n.LANGUAGES:
        gettext = i18n.translations(lang).gettext
        for message in FIELD_ERRORS.values():
            assert (gettext(message) != message) == (lang != "en")


def test_a_chart_is_inline_svg_with_its_figures_and_no_style_attribute():
    svg = str(charts.bars([("Legal <advice>", 40), ("Press", 10), ("Nobody", None)], "Requests by skill"))
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg
    assert "Legal &lt;advice&gt;" in svg and "Nobody" not in svg
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert abs(widths[0] - 4 * widths[1]) <= 4  # to the pixel
    assert str(charts.bars([], "empty")) == ""


def test_a_volunteers_page_of_matches_renders_what_matching_returns():
    """The templates against the shapes the services give (lifecycle.view), in a right-to-left language."""
    match = {"id": "m1", "request_id": "r1", "status": "proposed", "score": 0.8, "reasons": ["Speaks fa"],
             "volunteer_id": "v1", "origin": "matching", "proposed_at": "2026-11-22T10:00:00+00:00",
             "expires_at": "2026-11-23T10:00:00+00:00", "answered_at": None, "decided_at": None,
             "request": {"skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
                         "visibility": "private"}}
    html = environment("fa").get_template("matches_volunteer.html").render(
        me={"role": "volunteer", "handle": "v"}, lang="fa", dir="rtl", fmt=i18n.Formatter("fa"),
        languages=i18n.ENDONYMS, csrf="token", path="/matches", done=None, errors={}, error=None,
        open=[match], confirmed=[], past=[], older="2026-11-22T10:00:00+00:00~1")
    assert '<html lang="fa" dir="rtl">' in html and "/matches/m1/accept" in html
    assert 'name="csrf" value="token"' in html and "ایران" in html
    assert 'href="/matches?before=2026-11-22T10%3A00%3A00%2B00%3A00~1"' in html  # the next page


def test_no_handler_shadows_another():
    """The gateway mixes every route class into one; a page handler named like an API handler
    would silently replace it (it did: a page's `verify` hid the API's)."""
    from services.gateway.service import GatewayService
    seen = {}
    for cls in GatewayService.__mro__[1:]:
        for name, value in vars(cls).items():
            if callable(value) and getattr(value, "nameko_entrypoints", None):
                assert name not in seen, f"{name} in both {seen[name].__name__} and {cls.__name__}"
                seen[name] = cls


def test_a_campaign_page_renders_for_its_owner_and_for_anyone_right_to_left():
    from services.campaigns.schemas import PRISONER_FIELDS
    campaign = {"id": "c" * 32, "title": "Free the two doctors", "story": "Held since spring.", "mode": "public",
                "prisoner_country": "IR", "prisoner_status": "sentenced", "detained_on": "2026-03-01",
                "days_detained": 276, "language": "fa", "prisoner": {"name": "Dr. Example"},
                "support": {"total": 60, "by_country": {"DE": 30}}, "is_owner": False,
                "created_at": "2026-03-02T10:00:00+00:00", "disputed": False, "asks": [], "done": [],
                "timeline": [{"id": "t" * 32, "kind": "sentenced", "date": "2026-09-01", "source": "The lawyer",
                              "details": "Six years", "visibility": "public"}],
                "wall": [{"id": "w" * 32, "text": "We wait for you.", "posted_on": "2026-09-02"}]}
    context = dict(lang="fa", dir="rtl", fmt=i18n.Formatter("fa"), languages=i18n.ENDONYMS, csrf="token",
                   path="/campaigns/x", done=None, errors={}, error=None, countries=[("DE", "آلمان")],
                   prisoner_fields=PRISONER_FIELDS, form={}, pledges=None, ask_skills=[("press", "Press")],
                   language_choices=[("fa", "فارسی")], ask_warnings=[])
    html = environment("fa").get_template("campaign.html").render(me=None, campaign=campaign, **context)
    assert '<html lang="fa" dir="rtl">' in html and "Dr. Example" in html and "/campaigns/" + "c" * 32 + "/sign" in html
    assert "Six years" in html and "We wait for you." in html
    assert "/owners" not in html and "/timeline" not in html  # nothing of the owners' controls for anyone else
    owner = dict(campaign, is_owner=True, consent_review_due=True, consent={f: "owners" for f in PRISONER_FIELDS},
                 owners=2, is_creator=True, status_pending="released",
                 co_owners=[{"handle": "f", "creator": True}, {"handle": "ngo-lawyer", "creator": False}],
                 invitations=[{"ref": "r" * 32, "expires_at": "2026-09-09T10:00:00+00:00"}],
                 owner_log=[{"at": "2026-09-02T10:00:00+00:00", "by": "f", "action": "status_proposed",
                             "detail": "released"}])
    html = environment("fa").get_template("campaign.html").render(me={"role": "activist", "handle": "f"},
                                                                 campaign=owner, **dict(context, pledges={"items": []}))
    # Confirm consent; the status; remove the co-owner; two of pause / quiet / public.
    assert html.count("/owners") == 5 and "/owners/ngo-lawyer/remove" in html and "/owners/f/remove" not in html
    assert "/invitations/" + "r" * 32 + "/revoke" in html and "ngo-lawyer" in html
    assert i18n.translations("fa").gettext("Proposed a new status") in html
    assert "/timeline/" + "t" * 32 + "/remove" in html and "/invite" in html
    paused = dict(owner, mode="paused")
    html = environment("en").get_template("campaign.html").render(me={"role": "activist", "handle": "f"},
                                                                 campaign=paused, **dict(context, lang="en", dir="ltr",
                                                                                         pledges={"items": []}))
    assert "/sign" not in html and "Make it public" in html


def test_a_page_names_its_onion_address_unless_the_visitor_is_on_it():
    from werkzeug.test import EnvironBuilder

    from services.gateway.web.pages import onion_location

    onion = "vtwvjlj35vjvorwjy3x5ivz5tr6qu6tyzvvu5wufd5kvjmceufrhucqd.onion"
    clearnet = EnvironBuilder(path="/campaigns", query_string="lang=fa", base_url="https://allies.example").get_request()
    assert onion_location(onion, clearnet) == f"http://{onion}/campaigns?lang=fa"
    on_tor = EnvironBuilder(path="/campaigns", base_url=f"http://{onion}").get_request()
    assert onion_location(onion, on_tor) is None
    assert onion_location("", clearnet) is None
    assert onion_location("evil.example/x?.onion", clearnet) is None  # never a header pointing elsewhere
