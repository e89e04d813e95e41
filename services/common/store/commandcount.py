"""Store commands counted per database and command name, in every process that talks to the store.

The number of commands is what an action costs the store (on FerretDB each is ~1 CPU ms of
FerretDB and PostgreSQL, whatever it carries), and unlike time it does not depend on the machine,
so tests may assert it and `./dev bench` reports it per action. `mongo.connect` attaches the one
`COUNTER` of the process to every client. Each command is counted under the nameko entrypoint
whose worker sent it (`ServiceDatabase` names it for the worker: `on_match_proposed`,
`create_request`, `expire_due`...), so an action's cost is told apart from the timers' ticks.
With `STORE_COUNTS_DIR` set (the bench, the cost test), each process also writes its totals to
`<dir>/<pid>.json`, at most once a second, for them to add up.
"""
import json
import os
import threading
import time
from collections import Counter

from pymongo import monitoring


# The entrypoint the current worker runs (threading.local is per greenlet under eventlet).
_WORKER = threading.local()


def set_entrypoint(name):
    _WORKER.entrypoint = name


def entrypoint():
    return getattr(_WORKER, "entrypoint", None) or "-"


# Seconds: a command on the local FerretDB takes about a millisecond; tens mean a loaded store.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


class Latency:
    """How long the store took to answer, per command name, as histogram buckets (what the services
    see of the store: services/common/metrics.py exports it), and how many commands failed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_command = {}  # command: [count per bucket..., +Inf count, sum, failures]

    def observe(self, command, seconds, failed):
        with self.lock:
            row = self.by_command.get(command)
            if row is None:
                row = self.by_command[command] = [0] * (len(LATENCY_BUCKETS) + 3)
            for place, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    row[place] += 1
            row[-3] += 1
            row[-2] += seconds
            if failed:
                row[-1] += 1

    def snapshot(self):
        """{command: (cumulative [(le, count)...], count, sum, failures)}"""
        with self.lock:
            rows = {command: list(row) for command, row in self.by_command.items()}
        return {command: ([(bound, row[place]) for place, bound in enumerate(LATENCY_BUCKETS)]
                          + [(float("inf"), row[-3])], row[-3], row[-2], row[-1])
                for command, row in rows.items()}


class CommandCounter(monitoring.CommandListener):
    def __init__(self):
        self.counts = Counter()
        self.lock = threading.Lock()
        self.latency = Latency()
        self.directory = None
        self.written_at = 0.0

    def started(self, event):
        key = (event.database_name, entrypoint(), event.command_name)
        with self.lock:
            self.counts[key] += 1

    def succeeded(self, event):
        self.latency.observe(event.command_name, event.duration_micros / 1e6, failed=False)
        if self.directory and time.monotonic() - self.written_at >= 1.0:
            self.write()

    def failed(self, event):
        self.latency.observe(event.command_name, event.duration_micros / 1e6, failed=True)

    def snapshot(self, database=None):
        """{(database, entrypoint, command): n}, or {(entrypoint, command): n} for one database."""
        with self.lock:
            if database is None:
                return dict(self.counts)
            return {(where, command): n for (db, where, command), n in self.counts.items() if db == database}

    def total(self, database):
        return sum(self.snapshot(database).values())

    def write_to(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def write(self):
        self.written_at = time.monotonic()
        rows = [{"database": db, "entrypoint": where, "command": command, "n": n}
                for (db, where, command), n in self.snapshot().items()]
        path = os.path.join(self.directory, f"{os.getpid()}.json")
        try:
            with open(path + ".tmp", "w") as handle:
                json.dump(rows, handle)
            os.replace(path + ".tmp", path)
        except OSError:
            pass  # counting must never break a query


COUNTER = CommandCounter()


def listeners(config):
    directory = config.get("STORE_COUNTS_DIR")
    if directory and COUNTER.directory is None:
        COUNTER.write_to(os.path.abspath(directory))
    return [COUNTER]


def read_dir(directory):
    """Every process's latest totals in `directory`: {(database, entrypoint, command): n}."""
    out = Counter()
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                rows = json.load(handle)
        except (OSError, ValueError):
            continue
        for row in rows:
            out[(row["database"], row["entrypoint"], row["command"])] += row["n"]
    return out
