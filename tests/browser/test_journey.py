"""The whole journey in a real browser, the activist's with JavaScript off (Tor Browser, Safest):
an activist signs up and posts a need in Persian; a volunteer finds it and offers help; another
volunteer gets a proposal and accepts; the activist confirms one of them; they exchange messages;
a moderator verifies a volunteer; an analyst sees the counts move. Screenshots at a phone's and a
laptop's width, in English and Persian, are saved along the way (docs/screenshots has the main ones).
"""
import re
import time
import uuid

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import SCREENSHOTS
from tests.support import operator_command, run_command, wait_until

# Every request counts on the analyst's page here (the default k of 5 would hide a test's few).
PLATFORM_OVERRIDES = {"ANALYTICS_MIN_BUCKET": 1, "ANALYTICS_ROUND": 1}
PASSWORD = "correct horse battery staple"
TITLE = "وکیل برای پرونده تجدیدنظر برادرم"
BODY = ("برادرم در دادگاه انقلاب به پنج سال زندان محکوم شده است. به وکیلی نیاز داریم که با پرونده‌های "
        "تجدیدنظر آشنا باشد و متن دفاعیه را به انگلیسی ترجمه کند.")
LETTER = "سلام. ما در سراسر جهان به یاد شما هستیم و منتظر روزی هستیم که آزاد شوید. قوی بمانید."


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:5]}"


def sign_up(browser, handle, role, lang="en"):
    browser.open(f"/signup?lang={lang}&role={role}")
    browser.type("handle", handle).type("password", PASSWORD).type("password2", PASSWORD).tick(f"role-{role}")
    browser.submit("/signup")
    assert "done=signed_up" in browser.path, browser.html[-2000:]
    return browser


def set_profile(browser, skills, languages, bio):
    browser.open("/me/profile")
    for skill in skills:
        browser.tick(f"skills-{skill}")
    browser.pick("languages", *languages).type("bio", bio)
    browser.submit("/me/profile")
    assert "done=saved" in browser.path


def handle_of(browser):
    """The signed-in person's handle, as the page header shows it."""
    return browser.find("header nav a[href='/me/profile']").text.rsplit("(", 1)[1].rstrip(")")


def appointed(platform, browser, role):
    """What an operator does (`./dev admin grant-role`); the person signs in again to take it up."""
    handle = handle_of(browser)
    with ClusterRpcProxy(platform.config, timeout=20) as rpc:
        rpc.profiles.grant_role(operator_command({"handle": handle, "role": role}, platform.config))
    browser.press("Sign out")
    browser.open("/login").type("handle", handle).type("password", PASSWORD).submit("/login")
    assert "done=signed_in" in browser.path
    return browser


def requests_by_skill(analyst, label):
    """The analyst's figure for one skill (from the chart's table), 0 when it is not shown."""
    analyst.open("/analytics")
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", analyst.html)
    return next((int(value) for name, value in rows if name == label), 0)


@pytest.mark.timeout(600)
def test_the_whole_journey(platform, browser):
    # The analyst looks first, to see the counts move.
    analyst = appointed(platform, sign_up(browser(), unique("researcher"), "volunteer"), "analyst")
    before = requests_by_skill(analyst, "Legal advice and representation")

    # Two volunteers are there before the need: a lawyer who will be proposed, a journalist who will offer.
    lawyer = sign_up(browser(), unique("lawyer"), "volunteer")
    set_profile(lawyer, ["legal", "translation"], ["fa", "en"], "Appeals lawyer; I have defended journalists.")
    journalist = sign_up(browser(), unique("reporter"), "volunteer")
    set_profile(journalist, ["press", "writing"], ["fa", "en"], "Reporter covering trials in Iran.")

    # The activist, without JavaScript, in Persian.
    activist = browser(javascript=False)
    activist.open("/?lang=fa")
    activist.screenshot("landing-fa", size=(360, 780))
    activist.screenshot("landing-fa")
    activist.press("به کمک نیاز دارم")
    handle = unique("khahar")
    activist.type("handle", handle).type("password", PASSWORD).type("password2", PASSWORD).tick("role-activist")
    activist.submit("/signup")
    assert activist.path.startswith("/requests/new") and 'lang="fa"' in activist.html
    activist.type("title", TITLE).type("body", BODY).tick("skills-legal")
    activist.pick("languages", "fa").pick("country", "IR").pick("urgency", "high").tick("visibility-public")
    activist.screenshot("post-a-need-fa", size=(360, 780))
    activist.screenshot("post-a-need-fa")
    activist.submit("/requests/new")
    assert "done=posted" in activist.path, activist.html[-3000:]
    request_path = activist.path.split("?")[0]
    assert TITLE in activist.html

    # The journalist finds it and offers help.
    wait_until(lambda: TITLE in journalist.open("/search?q=" + "تجدیدنظر").html, timeout=30,
               message="the need is searchable")
    journalist.screenshot("search-en")
    journalist.click(journalist.find(f'a[href="{request_path}"]'))
    journalist.press("Offer to help")
    assert "done=offered" in journalist.path, journalist.html[-2500:]

    # The lawyer gets a proposal and accepts.
    wait_until(lambda: "Yes, I can help" in lawyer.open("/matches").html, timeout=30, message="a proposal")
    lawyer.screenshot("proposals-en", size=(360, 780))
    lawyer.screenshot("proposals-en")
    lawyer.press("Yes, I can help")
    assert "done=accepted" in lawyer.path

    # The activist sees both, with what they need to decide, and chooses the lawyer.
    activist.open("/matches")
    page = activist.html
    assert handle_of(lawyer) in page and handle_of(journalist) in page
    assert "Appeals lawyer" in page and "تأییدنشده" in page  # neither is verified yet
    activist.screenshot("choose-a-helper-fa", size=(360, 780))
    activist.screenshot("choose-a-helper-fa")
    cards = [card for card in activist.all(".card .card") if handle_of(lawyer) in card.text]
    activist.click(cards[0].find_element("css selector", "form[action$='/confirm'] button"))
    assert "done=confirmed" in activist.path
    conversation = activist.path.split("?")[0]

    # They talk; nobody else can.
    activist.type("text", "سلام. ممنون که قبول کردید. می‌توانیم در سیگنال حرف بزنیم؟").submit(f"{conversation}/messages")
    assert "done=sent" in activist.path
    lawyer.open(conversation)
    assert "ممنون که قبول کردید" in lawyer.html
    lawyer.type("text", "Of course. I will write to you there tonight.").submit(f"{conversation}/messages")
    activist.open(conversation)
    assert "I will write to you there tonight" in activist.html
    activist.screenshot("conversation-fa", size=(360, 780))
    activist.screenshot("conversation-fa")
    journalist.open(conversation)
    assert "ممنون" not in journalist.html and "I will write" not in journalist.html

    # A moderator verifies the journalist.
    moderator = appointed(platform, sign_up(browser(), unique("steward"), "volunteer"), "moderator")
    wait_until(lambda: handle_of(journalist) in moderator.open("/moderation").html, timeout=30,
               message="the journalist in the vetting list")
    moderator.screenshot("moderation-en")
    card = next(c for c in moderator.all(".card") if handle_of(journalist) in c.text)
    moderator.click(card.find_element("css selector", "form[action='/moderation/verify'] button"))
    assert "done=moderated" in moderator.path, moderator.html[-1500:]
    wait_until(lambda: "Verified by a moderator" in journalist.open("/me/profile").html, timeout=30,
               message="the journalist sees they are verified")

    # The analyst sees the counts move.
    wait_until(lambda: requests_by_skill(analyst, "Legal advice and representation") == before + 1, timeout=30,
               message="the analyst's count moves")
    analyst.screenshot("analytics-en")
    analyst.open("/analytics?lang=fa")
    analyst.screenshot("analytics-fa")


def test_persian_is_laid_out_right_to_left(platform, browser):
    """By the positions of elements, not only the attribute: the brand sits at the start of the line
    (left in English, right in Persian), and so does the form's button."""
    page = browser(javascript=False)
    positions = {}
    for lang in ("en", "fa"):
        page.open(f"/login?lang={lang}")
        header = page.find("header.site").rect
        brand = page.find("header.site .brand").rect
        label = page.find("form.stack button[type=submit]").rect
        field = page.find("#handle").rect
        positions[lang] = {"brand_left": brand["x"] - header["x"],
                           "brand_right": header["x"] + header["width"] - (brand["x"] + brand["width"]),
                           "label_left": label["x"] - field["x"],
                           "label_right": field["x"] + field["width"] - (label["x"] + label["width"])}
    en, fa = positions["en"], positions["fa"]
    assert en["brand_left"] < en["brand_right"] and fa["brand_right"] < fa["brand_left"]
    assert en["label_left"] < 2 and fa["label_right"] < 2 and fa["label_left"] > 20


def test_phone_width_needs_no_sideways_scrolling(platform, browser):
    page = browser(javascript=True)
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
    for path in ("/?lang=fa", "/signup?lang=ar", "/search?lang=zh", "/login?lang=ru"):
        page.open(path)
        overflow = page.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_pages_pass_axe(platform, browser, lang):
    """axe-core (WCAG 2.1 A/AA rules: labels, contrast, landmarks, language) finds nothing."""
    page = browser(javascript=True)
    sign_up(page, unique("axe"), "activist", lang=lang)
    found = {}
    for path in ("/", "/signup", "/login", "/search", "/volunteers", "/requests/new", "/matches", "/notifications",
                 "/me/profile", "/campaigns", "/campaigns/new"):
        page.open(f"{path}?lang={lang}")
        violations = page.axe()
        if violations:
            found[path] = violations
    assert not found, found


def test_a_family_starts_a_campaign_in_persian_and_strangers_sign_it(platform, browser):
    """Without JavaScript: the family starts a campaign, choosing who sees each detail; a stranger
    sees only what is public and signs with a country; the family pauses it and it is gone."""
    family = browser(javascript=False)
    sign_up(family, unique("madar"), "activist", lang="fa")
    family.open("/campaigns/new?lang=fa")
    family.type("title", "آزادی دو پزشک زندانی").type(
        "story", "دو پزشک به خاطر درمان معترضان زخمی از بهار در زندان‌اند. برایشان بنویسید و امضا کنید.")
    family.pick("prisoner_country", "IR").pick("language", "fa").pick("prisoner_status", "sentenced")
    family.type("prisoner_name", "دکتر نمونه").pick("consent_name", "public")
    family.type("prisoner_family_names", "برادرشان").pick("consent_family_names", "owners")
    family.screenshot("start-a-campaign-fa")
    family.submit("/campaigns/new")
    assert "done=campaign_started" in family.path, family.html[-3000:]
    campaign_path = family.path.split("?")[0]
    assert "برادرشان" in family.html  # the owners see every detail

    stranger = browser(javascript=False)
    stranger.open(campaign_path + "?lang=en")
    assert "دکتر نمونه" in stranger.html and "برادرشان" not in stranger.html
    # A first visit gets the page as caches keep it: signing is a page of its own.
    stranger.click(stranger.find(f'a[href="{campaign_path}/sign?lang=en"]'))
    stranger.pick("country", "DE").type("email", "supporter@example.org")
    stranger.submit(campaign_path + "/sign")
    assert "done=signed" in stranger.path
    stranger.screenshot("campaign-en")
    family.open(campaign_path + "?lang=fa")
    family.screenshot("campaign-fa")
    family.screenshot("campaign-fa", size=(360, 780))

    # A supporter writes; a moderator approves; the family prints the letters in Persian.
    supporter = sign_up(browser(javascript=False), unique("hamdel"), "volunteer", lang="fa")
    supporter.open(campaign_path + "/write?lang=fa")
    supporter.type("text", LETTER)
    supporter.screenshot("write-a-letter-fa")
    supporter.submit(campaign_path + "/write")
    assert "done=letter_sent" in supporter.path, supporter.html[-3000:]
    moderator = appointed(platform, sign_up(browser(javascript=False), unique("mod"), "activist"), "moderator")
    moderator.open("/moderation?lang=fa")
    # The card shows the letter, then its buttons.
    letter_id = re.search(r'action="/moderation/letter/([0-9a-f]{32})/approve"',
                          moderator.html[moderator.html.index(LETTER[:20]):]).group(1)
    moderator.submit(f"/moderation/letter/{letter_id}/approve")
    assert "done=moderated" in moderator.path
    family.open(campaign_path + "/letters?lang=fa")
    assert LETTER[:20] in family.html and handle_of(supporter) not in family.html
    family.screenshot("campaign-letters-fa")
    pdf = requests.get(platform.url + campaign_path + "/bundle.pdf", timeout=60,
                       cookies={c["name"]: c["value"] for c in family.driver.get_cookies()})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf", pdf.text[:300]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "letters-bundle-fa.pdf").write_bytes(pdf.content)
    # The PDF's first page (the cover) and its letter page, as the family prints them (poppler
    # renders them).
    for number, name in ((1, "letters-bundle-fa-cover"), (2, "letters-bundle-fa")):
        run_command(["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number), "-singlefile",
                        str(SCREENSHOTS / "letters-bundle-fa.pdf"), str(SCREENSHOTS / name)], check=True)
    text = run_command(["pdftotext", str(SCREENSHOTS / "letters-bundle-fa.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "جهان" in text and handle_of(supporter) not in text
    family.open(campaign_path + "?lang=fa")
    family.submit(campaign_path + "/owners")  # the first owners' form: pause it now
    assert "done=saved" in family.path
    assert stranger.open(campaign_path + "?lang=en").html.count("دکتر نمونه") == 0


def test_escape_twice_leaves_the_platform_and_back_does_not_return_to_that_page(platform, browser):
    """The quick exit's key: the session ends, this site's cookies go, and the page the person was
    on is replaced in the history (Back goes to the one before it, which is signed out now)."""
    page = browser(javascript=True)
    sign_up(page, unique("exit"), "activist")
    page.open("/matches")
    entries = page.driver.execute_script("return window.history.length")
    page.find("body").send_keys(Keys.ESCAPE)
    time.sleep(1.5)  # one press, alone: a stray key must not throw anyone out
    assert page.path.startswith("/matches")
    page.find("body").send_keys(Keys.ESCAPE, Keys.ESCAPE)
    wait_until(lambda: page.path == "/leave", timeout=10, message="the quick exit")
    assert page.driver.title == "New Tab" and "Allies" not in page.html
    assert page.driver.execute_script("return window.history.length") == entries  # replaced, not added
    assert not [c for c in page.driver.get_cookies() if c["name"] in ("session", "csrf")]
    page.driver.back()
    assert not page.path.startswith("/matches") and page.path != "/leave"
    page.open("/matches")
    assert page.path.startswith("/login")  # signed out
