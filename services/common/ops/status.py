"""`./dev status`: the platform at a glance, from Prometheus, in the terminal (docs/operations.md).

Per service: instances answering, entrypoint runs per second (handlers, RPCs, routes; not timer
ticks), p99 of those runs, the share that failed, events waiting in its queues, documents whose
events wait in its outbox, and how far its due-work timers are behind. Per store: up, the p99 the
services see, and what it is doing. Redrawn in place every few seconds; `--once` prints one frame
(for a script, or a terminal without cursor control).

    python -m services.common.ops.status [--once] [--every SECONDS] [--prometheus URL]
"""
import argparse
import math
import os
import sys
import time

import requests

from services.common import catalog
from services.common.ops import monitoring

WINDOW = "1m"
# One PromQL query per column, each answering one number per service.
SERVICE_QUERIES = {
    "up": 'sum by (service) (up{job="allies"})',
    "rate": f'sum by (service) (rate(allies_handled_total{{kind!="timer"}}[{WINDOW}]))',
    "p99": f'histogram_quantile(0.99, sum by (service, le) (rate(allies_handler_seconds_bucket{{kind!="timer"}}[{WINDOW}])))',
    "errors": f'sum by (service) (rate(allies_handled_total{{outcome="error"}}[{WINDOW}]))'
              f' / sum by (service) (rate(allies_handled_total[{WINDOW}]))',
    "queued": monitoring.QUEUED_BY_SERVICE,
    "outbox": "sum by (service) (allies_outbox_pending)",
    "behind": "max by (service) (allies_due_behind_seconds)",
}
# Per store: (name, up, p99 seconds or None, what it is doing, that figure's unit).
STORE_QUERIES = [
    ("RabbitMQ", 'min(up{job="rabbitmq"})', None,
     "sum(rabbitmq_detailed_queue_messages_ready)", "events waiting"),
    ("dead letters", 'min(up{job="rabbitmq"})', None,
     'sum(rabbitmq_detailed_queue_messages{queue="dead-letters"})', "to look at"),
    ("FerretDB", 'min(up{job=~"ferretdb|mongodb"})',
     f"histogram_quantile(0.99, sum by (le) (rate(allies_store_command_seconds_bucket[{WINDOW}])))",
     f"sum(rate(allies_store_command_seconds_count[{WINDOW}]))", "commands/s"),
    ("PostgreSQL", "min(pg_up)", None,
     f'sum(rate(pg_stat_database_xact_commit{{datname="ferretdb"}}[{WINDOW}]))', "commits/s"),
    ("Elasticsearch", "min(elasticsearch_cluster_health_up)",
     None, f"sum(rate(elasticsearch_indices_search_query_total[{WINDOW}]))", "searches/s"),
]


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def query(self, promql):
        """[(labels, value)] of an instant query; [] when it answers nothing."""
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        answer.raise_for_status()
        return [(series["metric"], float(series["value"][1])) for series in answer.json()["data"]["result"]]

    def scalar(self, promql):
        found = self.query(promql)
        return found[0][1] if found else None


def gather(prometheus):
    """{"services": {name: {column: value}}, "stores": [(name, up, p99, figure, unit)]}"""
    services = {name: {} for name in catalog.ALL}
    for column, promql in SERVICE_QUERIES.items():
        for labels, value in prometheus.query(promql):
            if labels.get("service") in services:
                services[labels["service"]][column] = value
    stores = [(name, prometheus.scalar(up), prometheus.scalar(p99) if p99 else None, prometheus.scalar(figure), unit)
              for name, up, p99, figure, unit in STORE_QUERIES]
    return {"services": services, "stores": stores}


def _number(value, form="{:.1f}", none="-"):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return none
    return form.format(value)


def _duration(seconds):
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


def render(state, url, now=None):
    """One frame as text: a table of services, then one of stores."""
    lines = [f"allies: what Prometheus ({url}) saw over the last minute, at "
             f"{time.strftime('%H:%M:%S', time.localtime(now))}", ""]
    lines.append(f"{'service':<10} {'up':>3} {'runs/s':>8} {'p99':>8} {'errors':>7} {'queued':>7} {'outbox':>7} {'behind':>8}")
    for name, row in state["services"].items():
        up = row.get("up")
        lines.append(
            f"{name:<10} {_number(up, '{:.0f}', '0'):>3} {_number(row.get('rate')):>8} {_duration(row.get('p99')):>8} "
            f"{_number(row.get('errors') and row['errors'] * 100, '{:.1f}%', '0%'):>7} "
            f"{_number(row.get('queued'), '{:.0f}', '0'):>7} {_number(row.get('outbox'), '{:.0f}', '0'):>7} "
            f"{_duration(row.get('behind')):>8}" + ("   << NO INSTANCE" if not up else ""))
    lines += ["", f"{'store':<14} {'state':<6} {'p99':>8}  doing"]
    for name, up, p99, figure, unit in state["stores"]:
        condition = "up" if up == 1 else ("DOWN" if up == 0 else "?")
        lines.append(f"{name:<14} {condition:<6} {_duration(p99):>8}  {_number(figure)} {unit}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./dev status", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between frames")
    parser.add_argument("--prometheus", default=os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:19090"))
    args = parser.parse_args(argv)
    prometheus = Prometheus(args.prometheus)
    try:
        while True:
            try:
                frame = render(gather(prometheus), args.prometheus)
            except requests.RequestException as exc:
                frame = f"Prometheus at {args.prometheus} does not answer ({exc.__class__.__name__}): `./dev stack start`"
                if args.once:
                    print(frame, file=sys.stderr)
                    return 1
            if args.once:
                print(frame)
                return 0
            # Home, clear below: the frame is redrawn in place.
            sys.stdout.write("\x1b[H\x1b[J" + frame + "\n\n(Ctrl-C to leave)\n")
            sys.stdout.flush()
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
