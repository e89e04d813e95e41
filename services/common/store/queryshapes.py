"""The shapes of the queries a service sends its database, recorded for the query-plan test.

With `QUERY_SHAPES_FILE` set (test runs only), `mongo.connect` attaches `ShapeRecorder`: each
distinct filter shape a process sends (database, collection, command, and each top-level key with
its operator) is appended to that file as one JSON line. No value is recorded, only keys and
operators, so the file holds nothing personal. `tests/test_query_plans.py` then explains every
shape the test run produced against PostgreSQL and fails on a scan of a collection that grows.
"""
import json
import logging
import os
import threading

from pymongo import monitoring

log = logging.getLogger(__name__)


def filters_of(command_name, command):
    """The filters a command carries (an update or delete may carry several)."""
    if command_name == "find":
        return [command.get("filter") or {}]
    if command_name == "count":
        return [command.get("query") or {}]
    if command_name == "findAndModify":
        return [command.get("query") or {}]
    if command_name == "aggregate":
        pipeline = command.get("pipeline") or []
        first = pipeline[0] if pipeline else {}
        return [first.get("$match", {})]
    if command_name == "update":
        return [update.get("q") or {} for update in command.get("updates", [])]
    if command_name == "delete":
        return [delete.get("q") or {} for delete in command.get("deletes", [])]
    return []


def shape(query):
    """`{"status": "open", "at": {"$lte": t}}` -> `[["at", "$lte"], ["status", "eq"]]`."""
    out = []
    for key, value in query.items():
        if key.startswith("$"):
            out.append([key, "op"])
        elif isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            out.extend([key, operator] for operator in sorted(value))
        elif value is None:
            out.append([key, "null"])
        elif isinstance(value, (list, dict)):
            out.append([key, "document"])
        else:
            out.append([key, "eq"])
    return sorted(out)


class ShapeRecorder(monitoring.CommandListener):
    def __init__(self, path):
        self.path = path
        self.seen = set()
        self.lock = threading.Lock()

    def started(self, event):
        try:
            collection = event.command.get(event.command_name)
            for query in filters_of(event.command_name, event.command):
                record = {"database": event.database_name, "collection": collection,
                          "command": event.command_name, "shape": shape(query)}
                line = json.dumps(record, sort_keys=True)
                with self.lock:
                    if line in self.seen:
                        continue
                    self.seen.add(line)
                    with open(self.path, "a") as handle:
                        handle.write(line + "\n")
        except Exception:  # recording must never break a query
            log.warning("query shape not recorded", exc_info=True)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def listeners(config):
    path = config.get("QUERY_SHAPES_FILE")
    return [ShapeRecorder(os.path.abspath(path))] if path else []
