"""Operator command for events a consumer kept failing on (services/common/bus/topology.py).

    python -m services.common.bus.dead_letters list
    python -m services.common.bus.dead_letters replay EVENT_ID [EVENT_ID ...]
    python -m services.common.bus.dead_letters replay --all

`list` shows, for each dead letter, only what identifies it: its event id and type, the queue
(consumer) it died in and how often it was tried; never its body, which may hold what must not be
printed. `replay` sends each back to the queue it died in (after the cause is fixed); consumers
are idempotent, so an event already handled there changes nothing. It refuses (and leaves in the
dead-letter queue) a letter whose queue is not an event consumer's, or whose event type or source
is not that queue's: a letter put on `dead-letters` by hand must not reach a handler of another
event (and what it grants, such as a confirmation, needs its own proof: docs/security.md).
"""
import argparse
import json
import re
import sys

from services.common.config import load_config

from services.common.bus.topology import connect, dead_letter_queue


# evt-<source>-<event type>--<service>.<handler> (services/common/bus/topology.py, consumers_of)
CONSUMER_QUEUE = re.compile(r"^evt-(?P<source>[a-z]+)-(?P<event_type>[a-z_]+)--[a-z_]+\.[a-z_]+$")


def _describe(message):
    try:
        body = json.loads(message.body)
    except (TypeError, ValueError):
        body = {}
    deaths = (message.headers or {}).get("x-death") or [{}]
    return {"event_id": body.get("event_id") if isinstance(body, dict) else None,
            "event_type": body.get("event_type") if isinstance(body, dict) else None,
            "queue": deaths[0].get("queue"), "exchange": deaths[0].get("exchange"), "reason": deaths[0].get("reason"),
            "tried": (message.headers or {}).get("x-delivery-count")}


def belongs(description):
    """Whether a dead letter may go back to the queue it names: an event consumer's queue, for
    this event type, of the source whose exchange the letter came through."""
    queue = CONSUMER_QUEUE.match(str(description["queue"] or ""))
    return bool(queue) and queue["event_type"] == description["event_type"] \
        and description["exchange"] == f"{queue['source']}.events"


def _each(channel, act):
    """Take every dead letter once; `act(message, description)` returns True to consume it (the
    others go back when the channel closes)."""
    queue = dead_letter_queue()(channel)  # the broker's (topology.broker_objects), never declared here
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


def replay(config, event_ids=None, refused=None):
    """Send the dead letters with these event ids (None: all) back to their queues. Returns them;
    those that do not belong to the queue they name (`belongs`) stay, listed in `refused`."""
    replayed = []
    refused = refused if refused is not None else []
    with connect(config) as connection:
        channel = connection.channel()
        producer = connection.Producer(channel=channel)

        def send_back(message, description):
            if description["queue"] is None or (event_ids is not None and description["event_id"] not in event_ids):
                return False
            if not belongs(description):
                refused.append(description)
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
    parser = argparse.ArgumentParser(prog="python -m services.common.bus.dead_letters")
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
    refused = []
    for item in replay(config, None if args.all else set(args.event_ids), refused):
        print(f"replayed {item['event_id']} {item['event_type']} to {item['queue']}")
    for item in refused:
        print(f"refused {item['event_id']} {item['event_type']}: not an event of {item['queue']} "
              f"(via {item['exchange']}); left in the dead-letter queue")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
