"""Fill a running platform with believable demo data, through the public API as people would.

    ./dev demo [--gateway http://127.0.0.1:8080] [--volunteers 24]

Needs, volunteers and campaigns for prisoners shaped on ../shared/SCENARIOS.md and CAMPAIGNS.md, in Persian, Arabic, Russian, Chinese and
English; pseudonyms only (never a real person's name). Every account's password is printed once
at the end, with a moderator and an analyst appointed by the operator command, so a newcomer can
sign in as each role. Run it on a fresh `./dev up`; running it twice adds a second set (handles
get a new suffix).
"""
import argparse
import random
import secrets
import sys

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from tqdm import tqdm

from services.common.config import load_config
from services.common.trust.keyring import keyring

# (skills, languages, countries, bio): volunteers as SCENARIOS.md describes them.
VOLUNTEERS = [
    (["press", "writing"], ["en", "fa"], ["IR", "GB"], "Reporter; I have placed op-eds for former prisoners."),
    (["legal"], ["en", "ar"], ["US", "SY"], "Immigration lawyer in New York; asylum cases pro bono."),
    (["translation"], ["ru", "en"], ["RU", "DE"], "Translator; appeals and court papers, Russian to English."),
    (["tech", "digital-security"], ["en", "zh"], ["CN", "TW"], "Security engineer; I help people lock down phones."),
    (["art"], ["en", "fa"], ["IR", "FR"], "Songwriter; I wrote songs for campaigns before."),
    (["policy"], ["de", "en"], ["DE"], "Former staffer in the Bundestag; I can open doors to lawmakers."),
    (["pr", "fundraising"], ["en", "es"], ["CU", "US"], "Campaigner; I ran letter-writing drives for prisoners."),
    (["counseling"], ["ar", "en"], ["SA", "JO"], "Counselor for families of detainees."),
    (["medical"], ["ru", "en"], ["RU"], "Doctor; I can advise on a prisoner's health and what to ask for."),
    (["research"], ["en", "zh"], ["CN"], "Researcher; I document detention cases."),
    (["translation", "writing"], ["fa", "en"], ["IR"], "Persian-English translator; letters and appeals."),
    (["press"], ["ar", "en"], ["SY", "LB"], "Journalist covering Syria's prisons."),
]
# (title, body, skills, languages, country, urgency, visibility): needs as they were really posted,
# written as their authors would, naming nobody.
NEEDS = [
    ("یک روزنامه‌نگار برای انتشار یادداشت یک زندانی سابق",
     "پس از آزادی می‌خواهم تجربه زندان را در یک رسانه بین‌المللی منتشر کنم. به کمک برای ویرایش و یافتن رسانه نیاز دارم.",
     ["press", "writing"], ["fa", "en"], "IR", "normal", "public"),
    ("ترانه‌ای برای یاد یک وکیل که در زندان درگذشت",
     "همکاران او می‌خواهند ترانه‌ای به یادش ساخته شود تا فعالان ویدئویی با آن بسازند.",
     ["art"], ["fa"], "IR", "low", "public"),
    ("محامٍ لطلب لجوء عاجل",
     "عائلة لاجئة تحتاج بشكل عاجل إلى محامٍ يتابع طلب لجوئها في نيويورك قبل موعد الجلسة.",
     ["legal"], ["ar", "en"], "SY", "critical", "volunteers"),
    ("Перевод апелляции политзаключённого на английский",
     "Нужен переводчик, чтобы перевести апелляцию и письмо семьи для международных организаций.",
     ["translation"], ["ru", "en"], "RU", "high", "public"),
    ("帮助保护手机和通讯安全",
     "我们几个人需要学会如何保护手机和聊天记录，以防被检查。",
     ["digital-security", "tech"], ["zh"], "CN", "high", "volunteers"),
    ("Meeting lawmakers about state-sponsored incitement",
     "An expert on incitement campaigns would like to brief members of parliament in Germany.",
     ["policy"], ["en", "de"], "DE", "normal", "public"),
    ("Letters of support for a prisoner's birthday",
     "We want to gather letters of support so he knows he is not forgotten. Help us organise a drive.",
     ["pr", "writing"], ["en"], "CU", "normal", "public"),
    ("دعم نفسي لعائلة معتقل",
     "والدة معتقل منذ سنتين تحتاج إلى من تتحدث إليه. نفضل مستشارة تتحدث العربية.",
     ["counseling"], ["ar"], "SA", "normal", "private"),
    ("Консультация врача о здоровье заключённого",
     "У заключённого хроническая болезнь, в колонии отказывают в лечении. Что требовать и как?",
     ["medical"], ["ru"], "RU", "high", "public"),
    ("记录一位被失踪者的案件",
     "家人希望把案件整理成文件，提交给联合国工作组。",
     ["research"], ["zh", "en"], "CN", "normal", "public"),
    ("مترجم برای نامه‌های خانواده‌ها به نمایندگان پارلمان",
     "خانواده‌های زندانیان می‌خواهند نامه‌هایشان به انگلیسی ترجمه شود تا نام عزیزانشان در خبرها بماند.",
     ["translation"], ["fa", "en"], "IR", "normal", "public"),
    ("صحفي لتغطية قضية ناشط",
     "نطلب من صحفيين تغطية قضية ناشط معتقل دون محاكمة.",
     ["press"], ["ar", "en"], "SY", "high", "public"),
]


# Campaigns for prisoners of conscience (pseudonymous owners; every name here is invented): title,
# story, the prisoner's country, status, language, detained on, {detail: (text, who sees it)}.
CAMPAIGNS = [
    ("آزادی دو پزشک زندانی", "دو پزشک به خاطر درمان معترضان زخمی از بهار در زندان‌اند. برایشان بنویسید و امضا کنید.",
     "IR", "sentenced", "fa", "2026-03-14", {"name": ("دکتر آرمان و دکتر سیما", "public"), "prison": ("اوین", "verified"),
                                             "family_names": ("برادرشان", "owners")}),
    ("Free the poet who sang about the river", "A poet held for a song about a drying river. Her family asks for "
     "letters and for lawmakers abroad to ask about her case.", "UZ", "charged", "uz", "2026-06-02",
     {"name": ("Poet Example", "public"), "charges": ("Article 159", "public")}),
    ("Свободу учителю истории", "Учителя задержали за урок о репрессиях. Подпишитесь и напишите ему письмо.",
     "BY", "detained", "ru", "2026-09-20", {"name": ("Учитель Пример", "verified")}),
    ("اطلقوا سراح المدوّن", "مدوّن محتجز منذ شهور دون محاكمة بسبب منشور. عائلته تطلب التضامن والرسائل.",
     "EG", "disappeared", "ar", "2026-01-10", {}),
]


# Per campaign language: (a supporter's letter, its language, a family's message on the wall).
# Nothing that names anyone. The English letter to the Uzbek poet becomes a translation need once
# a moderator approves it.
LETTERS = {
    "fa": ("از آن سوی جهان برایتان می‌نویسیم: فراموش نشده‌اید و هر روز به یادتان هستیم.", "fa",
           "همه منتظر بازگشتت هستیم. باغچه را آب می‌دهیم."),
    "uz": ("We write to you from far away: you are not forgotten, and we think of you every day.", "en",
           "Biz seni kutyapmiz. Daryo hali ham qo'shig'ingni kuylaydi."),
    "ru": ("Пишем вам издалека: вас не забыли, мы думаем о вас каждый день.", "ru",
           "Мы ждём тебя дома. Ученики передают привет."),
    "ar": ("نكتب إليك من بعيد: لم ننسك، ونفكر فيك كل يوم.", "ar",
           "ننتظر عودتك. أمك بخير وتدعو لك."),
}


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.http = requests.Session()

    def call(self, method, path, body=None, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.request(method, self.base + path, json=body, headers=headers, timeout=30)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def person(self, handle, role, password):
        self.call("POST", "/api/accounts", {"handle": handle, "password": password, "role": role})
        return self.call("POST", "/api/sessions", {"handle": handle, "password": password})["token"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./dev demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--volunteers", type=int, default=len(VOLUNTEERS) * 2)
    args = parser.parse_args(argv)
    api = Api(args.gateway)
    rng = random.Random()
    suffix = secrets.token_hex(2)
    password = "demo-" + secrets.token_urlsafe(9)
    steps = args.volunteers + len(NEEDS) + len(CAMPAIGNS) + 2
    made = {}
    supporter_tokens = []
    with tqdm(total=steps, desc="demo data", unit="step") as progress:
        for index in range(args.volunteers):
            skills, languages, countries, bio = VOLUNTEERS[index % len(VOLUNTEERS)]
            handle = f"{skills[0].replace('-', '')}{index + 1}_{suffix}"
            token = api.person(handle, "volunteer", password)
            api.call("PUT", "/api/me/profile", {"skills": skills, "languages": languages, "countries": countries,
                                                "bio": bio, "availability_hours": rng.choice([4, 8, 12, 20]),
                                                "max_active_matches": 3}, token)
            made.setdefault("volunteer", handle)
            supporter_tokens.append(token)
            progress.update()
        for index, (title, body, skills, languages, country, urgency, visibility) in enumerate(NEEDS):
            handle = f"voice{index + 1}_{suffix}"
            token = api.person(handle, "activist", password)
            api.call("POST", "/api/requests", {"title": title, "body": body, "skills": skills, "languages": languages,
                                               "country": country, "urgency": urgency, "visibility": visibility},
                     token)
            made.setdefault("activist", handle)
            progress.update()
        countries = ("DE", "FR", "US", "CA", "GB", "SE", "NL")
        for index, (title, story, country, status, language, detained_on, details) in enumerate(CAMPAIGNS):
            token = api.person(f"family{index + 1}_{suffix}", "activist", password)
            campaign = api.call("POST", "/api/campaigns", {
                "title": title, "story": story, "prisoner_country": country, "prisoner_status": status,
                "language": language, "detained_on": detained_on,
                "prisoner": {field: text for field, (text, _) in details.items()},
                "consent": {field: level for field, (_, level) in details.items()}, "confirm_public": True}, token)
            api.call("POST", f"/api/campaigns/{campaign['id']}/timeline",
                     {"kind": "detained", "date": detained_on, "source": "The family", "visibility": "public"}, token)
            letter, letter_language, wall = LETTERS[language]
            api.call("POST", f"/api/campaigns/{campaign['id']}/wall", {"text": wall}, token)
            for supporter in supporter_tokens[:2]:  # letters waiting for the moderator
                api.call("POST", f"/api/campaigns/{campaign['id']}/letters",
                         {"text": letter, "language": letter_language}, supporter)
            for _ in range(rng.randint(30, 90)):  # supporters abroad (and some inside, never shown)
                api.call("POST", f"/api/campaigns/{campaign['id']}/signatures",
                         {"country": rng.choice(countries + (country,))})
            progress.update()
        with ClusterRpcProxy(load_config(), timeout=30) as rpc:
            for role in ("moderator", "analyst"):
                handle = f"{role}_{suffix}"
                api.person(handle, "volunteer", password)
                rpc.profiles.grant_role(keyring().sign_command({"handle": handle, "role": role}))
                made[role] = handle
                progress.update()
    print(f"\nSign in at {args.gateway}/login with password {password} as:")
    for role, handle in made.items():
        print(f"  {role:10} {handle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
