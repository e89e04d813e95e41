"""`./dev bench dbops`: database operations per request, by service and collection.

On the local stack every MongoDB-wire command becomes SQL statements in FerretDB's PostgreSQL, and
FerretDB's CPU per statement is what bounds the pipeline on a small machine (docs/performance.md).
This starts the whole platform on a small seeded store, posts requests one at a time through the
gateway, waits for the flow to settle, and reports PostgreSQL's own counts
(`pg_stat_user_tables`: statements that read a table, rows inserted, updated, deleted), divided
by the number of requests.

    ./dev bench dbops [--requests 50]
"""
import argparse
import os
import tempfile
import time
import uuid

import psycopg
from nameko.testing.rabbit import Client as RabbitClient

from bench.pipeline import Run, seed
from tests.e2e.platform import Client, Platform

STATS = """SELECT schemaname, relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_ins, n_tup_upd, n_tup_del
           FROM pg_stat_user_tables WHERE schemaname LIKE %s"""


def collection_of(table):
    """FerretDB names a collection's table `<collection>_<8 hex digits>`."""
    name, _, suffix = table.rpartition("_")
    return name if len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix) else table


def snapshot(connection, prefix):
    # The statistics collector reports with a short delay; settle it first.
    connection.execute("SELECT pg_stat_clear_snapshot()")
    return {(row[0], row[1]): row[2:] for row in connection.execute(STATS, (prefix + "%",))}


def main(argv):
    parser = argparse.ArgumentParser(prog="./dev bench dbops")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    count = args.requests

    with tempfile.TemporaryDirectory() as logs:
        platform = Platform(RabbitClient(os.environ["RABBIT_MGMT_URI"]), os.environ["AMQP_URI"], logs)
        seed(platform.config, volunteers=2000, requests_=500, matches=1000)
        platform.start()
        try:
            author = Client(platform).sign_up(f"dbops-{uuid.uuid4().hex[:6]}", "activist")
            with psycopg.connect(os.environ["FERRETDB_POSTGRESQL_URL"], autocommit=True) as connection:
                time.sleep(3)  # start-up's own work settles
                before = snapshot(connection, platform.config["DB_PREFIX"])
                run = Run(author)
                for index in range(count):
                    run.post(index)
                    time.sleep(0.3)  # one at a time: the cost of a request, not of a queue
                time.sleep(8)
                after = snapshot(connection, platform.config["DB_PREFIX"])
            totals = {}
            print(f"{'service':9} {'collection':24} {'reads':>6} {'ins':>5} {'upd':>5} {'del':>5}   per request")
            for (schema, table), values in sorted(after.items()):
                delta = [(now - then) / count for now, then in zip(values, before.get((schema, table), (0, 0, 0, 0)))]
                if any(delta):
                    service = schema.rsplit("_", 1)[-1]
                    print(f"{service:9} {collection_of(table):24} " + " ".join(f"{d:5.1f}" for d in delta))
                    totals[service] = totals.get(service, 0) + sum(delta)
            print("per service: " + ", ".join(f"{name} {value:.0f}" for name, value in sorted(totals.items()))
                  + f"; all {sum(totals.values()):.0f}")
        finally:
            platform.stop()
    return 0
