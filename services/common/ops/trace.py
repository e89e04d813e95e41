"""`./dev trace REQUEST_ID`: the path of one need through the services, as one trace.

The request's document names the trace of the act that posted it (`trace_id`, written with it);
each service's spans are in its span log (services/common/tracing.py, `TRACE_DIR`: `./dev up`
keeps them in .local/run/traces). Printed as a tree: each span's service and handler, when it
started after the first one, how long it took, and whether it failed.

    python -m services.common.ops.trace REQUEST_ID [--dir TRACE_DIR]
    python -m services.common.ops.trace --trace TRACE_ID [--dir TRACE_DIR]
"""
import argparse
import glob
import json
import os
import sys

from services.common.config import ROOT, database_name, load_config
from services.common.store import mongo

DEFAULT_DIR = os.path.join(ROOT, ".local", "run", "traces")


def trace_of_request(config, request_id):
    """The trace id the request was posted in, or None (no such request, or posted untraced)."""
    client = mongo.connect(config)
    try:
        found = client[database_name(config, "requests")]["requests"].find_one({"_id": request_id}, {"trace_id": 1})
    finally:
        client.close()
    return (found or {}).get("trace_id")


def spans_of(directory, trace_id=None):
    """Every span of the trace (of every trace, without one) in the span logs of `directory`,
    oldest first."""
    spans = []
    for path in glob.glob(os.path.join(directory, "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if trace_id and trace_id not in line:
                    continue
                try:
                    span = json.loads(line)
                except ValueError:
                    continue  # a line being written
                if trace_id is None or span.get("trace_id") == trace_id:
                    spans.append(span)
    return sorted(spans, key=lambda span: span["start_ns"])


def render(spans):
    """The spans as an indented tree, each child under its parent; a span whose parent is not
    among them (a lost log) is shown at the top level."""
    if not spans:
        return "no span of this trace in the span logs"
    ids = {span["span_id"] for span in spans}
    children = {}
    for span in spans:
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children.setdefault(parent, []).append(span)
    first = spans[0]["start_ns"]
    end = max(span["end_ns"] for span in spans)
    lines = [f"trace {spans[0]['trace_id']}: {len(spans)} spans, "
             f"{len({s['attributes'].get('allies.service') for s in spans})} services, {(end - first) / 1e6:.1f} ms"]

    def walk(parent, depth):
        for span in children.get(parent, []):
            attributes = span["attributes"]
            failed = "  FAILED" if span["status"] == "ERROR" else ""
            lines.append(f"{(span['start_ns'] - first) / 1e6:8.1f} ms {(span['end_ns'] - span['start_ns']) / 1e6:8.1f} ms  "
                         f"{'  ' * depth}{attributes.get('allies.service', '?'):<10} {span['name']}{failed}")
            walk(span["span_id"], depth + 1)
    walk(None, 0)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./dev trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("request_id", nargs="?", help="the need whose path to show")
    parser.add_argument("--trace", help="a trace id instead (from a log line's trace=...)")
    parser.add_argument("--dir", default=os.environ.get("TRACE_DIR") or DEFAULT_DIR, help="the span logs")
    args = parser.parse_args(argv)
    if not args.request_id and not args.trace:
        parser.error("give a REQUEST_ID or --trace TRACE_ID")
    trace_id = args.trace or trace_of_request(load_config(), args.request_id)
    if not trace_id:
        print(f"request {args.request_id}: no such request, or it was posted while tracing was off", file=sys.stderr)
        return 1
    print(render(spans_of(args.dir, trace_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
