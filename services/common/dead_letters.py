"""Operator command for events a consumer kept failing on (services/common/topology.py).

    python -m services.common.dead_letters list
    python -m services.common.dead_letters replay EVENT_ID [EVENT_ID ...]
    python -m services.common.dead_letters replay --all

`list` shows, for each dead letter, only what identifies it: its event id and type, the queue
(consumer) it died in and how often it was tried; never its body, which may hold what must not be
printed. `replay` sends each back to the queue it died in (after the cause is fixed); consumers
are idempotent, so an event already handled there changes nothing.
"""
import argparse
import json
import sys

from services.common.config import load_config

from .topology import connect, dead_letter_queue


def _describe(message):
    try:
        body = json.loads(message.body)
    except (TypeError, ValueError):
        body = {}
    deaths = (message.headers or {}).get("x-death") or [{}]
    return {"event_id": body.get("event_id"), "event_type": body.get("event_type"),
            "queue": deaths[0].get("queue"), "reason": deaths[0].get("reason"),
            "tried": (message.headers or {}).get("x-delivery-count")}


def _each(channel, act):
    """Take every dead letter once; `act(message, description)` returns True to consume it (the
    others go back when the channel closes)."""
    queue = dead_letter_queue()(channel)
    queue.declare()
    out = []
    while True:
        message = queue.get(no_ack=False)
        if message is None:
            return out
        description = _describe(message)
        if act(message, description):
            message.ack()
        out.append(description)


def list_dead(config):
    with connect(config) as connection:
        channel = connection.channel()
        found = _each(channel, lambda message, description: False)
        channel.close()
    return found


def replay(config, event_ids=None):
    """Send the dead letters with these event ids (None: all) back to their queues. Returns them."""
    replayed = []
    with connect(config) as connection:
        channel = connection.channel()
        producer = connection.Producer(channel=channel)

        def send_back(message, description):
            if description["queue"] is None or (event_ids is not None and description["event_id"] not in event_ids):
                return False
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            # The default exchange routes by queue name: straight back to the consumer it died in.
            producer.publish(message.body, exchange="", routing_key=description["queue"], headers=headers,
                             content_type=message.content_type, content_encoding=message.content_encoding,
                             delivery_mode=2, retry=False)
            replayed.append(description)
            return True

        _each(channel, send_back)
        channel.close()
    return replayed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.common.dead_letters")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="ids and types of the dead letters (never their bodies)")
    again = commands.add_parser("replay", help="send dead letters back to the queue they died in")
    again.add_argument("event_ids", nargs="*")
    again.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    config = load_config()
    if args.command == "list":
        for item in list_dead(config):
            print(f"{item['event_id']}  {item['event_type']}  {item['queue']}  tried {item['tried']}")
        return 0
    if not args.all and not args.event_ids:
        parser.error("name event ids, or --all")
    for item in replay(config, None if args.all else set(args.event_ids)):
        print(f"replayed {item['event_id']} {item['event_type']} to {item['queue']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
