"""Search benchmark: bulk indexing rate, and search latency through the gateway vs. directly.

    python -m bench search [--docs 100000] [--queries 400]      (or ./dev bench search)

1. Starts the whole platform as real processes (tests/e2e/platform.py: its own vhost, database
   prefix and index prefix on the running servers), so the search service has created its index.
2. Bulk-indexes `--docs` synthetic requests (Persian, Arabic, Russian, Chinese, English titles;
   skills, countries, urgencies, two years of dates) into the platform's request index: docs/s.
3. Runs the same searches (full text with highlighting and all five facets, filters, the three
   sorts) alternately through the gateway (HTTP -> gateway -> RPC over RabbitMQ -> search ->
   Elasticsearch) and directly against Elasticsearch with the very query the search service
   builds, and reports p50/p99 of each and the gateway's overhead on the direct p99 (target:
   under 50%).
Loopback only; every loop is bounded; the platform and its data are removed at the end.
"""
import argparse
import logging
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import requests
from elasticsearch.helpers import streaming_bulk

from services.common.store import elastic
from services.search import indices, queries

WORDS = {
    "fa": ["وکیل", "پناهندگی", "زندانی", "خانواده", "روزنامه‌نگار", "ترجمه", "کمپین", "حقوق", "دادگاه", "آزادی"],
    "ar": ["صحفي", "المعتقلين", "محامي", "لجوء", "ترجمة", "حملة", "عائلة", "قضية", "سجين", "حرية"],
    "ru": ["переводчик", "адвокат", "заключённого", "семьи", "журналист", "суд", "кампания", "убежище", "помощь",
           "письмо"],
    "zh": ["律师", "政治犯", "家属", "记者", "翻译", "自由", "法院", "庇护", "运动", "帮助"],
    "en": ["lawyer", "asylum", "prisoner", "family", "journalist", "translation", "campaign", "appeal", "court",
           "freedom"],
}
SKILLS = ["press", "legal", "translation", "tech", "digital-security", "pr", "policy", "art", "writing",
          "counseling", "research", "fundraising", "medical"]
COUNTRIES = ["IR", "SY", "RU", "SA", "CN", "KP", "CU", "BY", "VE", "EG"]
URGENCIES = list(indices.URGENCY_RANK)
STATUSES = ["open"] * 6 + ["matched", "fulfilled", "closed", "withdrawn"]


def synthetic_request(n, rng, start):
    language = rng.choice(list(WORDS))
    words = WORDS[language]
    data = {
        "request_id": f"bench-{n:07d}", "title": " ".join(rng.choices(words, k=5)),
        "body": " ".join(rng.choices(words, k=30)), "skills": rng.sample(SKILLS, rng.randint(1, 3)),
        "languages": [language], "country": rng.choice(COUNTRIES), "urgency": rng.choice(URGENCIES),
        "visibility": rng.choice(["public", "public", "public", "volunteers"]), "status": rng.choice(STATUSES),
        "created_at": start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
    }
    return indices.request_document(data)


def bulk_index(es, index, count, seed=7):
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    actions = ({"_index": index, "_id": f"bench-{n:07d}", "_source": synthetic_request(n, rng, start),
                "version": 1, "version_type": "external"} for n in range(count))
    began = time.perf_counter()
    indexed = 0
    for ok, item in streaming_bulk(es, actions, chunk_size=2000, raise_on_error=True):
        indexed += ok
    es.indices.refresh(index=index)
    return indexed, time.perf_counter() - began


def search_params(rng):
    language = rng.choice(list(WORDS))
    params = {"q": " ".join(rng.sample(WORDS[language], rng.randint(1, 2))),
              "sort": rng.choice(["relevance", "relevance", "newest", "urgency"])}
    if rng.random() < 0.5:
        params["skill"] = rng.choice(SKILLS)
    if rng.random() < 0.3:
        params["country"] = rng.choice(COUNTRIES)
    return params


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def measure(platform_url, es, alias, count, warmup=30, seed=11):
    rng = random.Random(seed)
    http = requests.Session()
    gateway, direct = [], []

    def via_gateway(params):
        began = time.perf_counter()
        response = http.get(f"{platform_url}/api/search/requests", params=params, timeout=30)
        elapsed = time.perf_counter() - began
        response.raise_for_status()
        return elapsed, response.json()["total"]

    def via_elasticsearch(params):
        body = queries.build_request_query(queries.RequestSearch().load(params), None)
        began = time.perf_counter()
        response = es.search(index=alias, **body)
        elapsed = time.perf_counter() - began
        return elapsed, response["hits"]["total"]["value"]

    for n in range(warmup + count):
        params = search_params(rng)
        # Alternate which path goes first, so neither always meets a warm cache.
        order = (via_gateway, via_elasticsearch) if n % 2 else (via_elasticsearch, via_gateway)
        results = {path: path(params) for path in order}
        (g_time, g_total), (d_time, d_total) = results[via_gateway], results[via_elasticsearch]
        if g_total != d_total:
            raise AssertionError(f"the two paths disagree on {params}: {g_total} vs {d_total}")
        if n >= warmup:
            gateway.append(g_time)
            direct.append(d_time)
    return gateway, direct


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench search", description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from nameko.testing.rabbit import Client as RabbitManager

    from tests.e2e.platform import Platform

    platform = Platform(RabbitManager(os.environ["RABBIT_MGMT_URI"]), os.environ["AMQP_URI"],
                        tempfile.mkdtemp(prefix="bench-search-"))
    print(f"starting the platform (logs in {platform.log_dir})", file=sys.stderr)
    es = elastic.connect(dict(platform.config, ES_TIMEOUT_S=60))
    try:
        platform.start()
        alias = indices.requests_alias(platform.config["ES_INDEX_PREFIX"])
        print(f"bulk-indexing {args.docs} synthetic requests", file=sys.stderr)
        indexed, seconds = bulk_index(es, alias, args.docs)
        print(f"searching {args.queries} times through the gateway and directly", file=sys.stderr)
        gateway, direct = measure(platform.url, es, alias, args.queries)
    finally:
        es.close()
        platform.stop()

    ms = lambda seconds_: f"{seconds_ * 1000:.1f} ms"  # noqa: E731
    g50, g99, d50, d99 = (percentile(gateway, 50), percentile(gateway, 99), percentile(direct, 50),
                          percentile(direct, 99))
    overhead = (g99 / d99 - 1) * 100
    print(f"bulk index: {indexed} docs in {seconds:.1f} s = {indexed / seconds:,.0f} docs/s")
    print(f"search ({len(gateway)} queries each, on {indexed} docs):")
    print(f"  direct to Elasticsearch: p50 {ms(d50)}  p99 {ms(d99)}")
    print(f"  through the gateway:     p50 {ms(g50)}  p99 {ms(g99)}")
    print(f"  gateway p99 / direct p99 = {g99 / d99:.2f} (adds {overhead:.0f}%; target under 50%: "
          f"{'met' if overhead < 50 else 'NOT met'})")
    return 0
