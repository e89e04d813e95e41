import logging

from services.common.trust.logfilter import Redact


def record(message, *args, name="nameko.web.server", level=logging.ERROR, exc_info=None):
    return logging.LogRecord(name, level, __file__, 1, message, args, exc_info)


def test_addresses_never_reach_a_log_line():
    redact = Redact()
    for address in ("203.0.113.7", "::1", "2001:db8::8a2e:370:7334", "fe80:0:0:0:200:f8ff:fe21:67cf"):
        line = record("(%s) client %s disconnected mid-upload", 1234, address)
        assert redact.filter(line)
        assert address not in line.getMessage() and "[address]" in line.getMessage()


def test_what_only_looks_like_an_address_is_kept():
    for text in ("at 2026-11-22T13:51:10Z", "version 1.2.3", "took 12.5 ms", "match 6f1c2a44"):
        line = record("%s", text)
        Redact().filter(line)
        assert line.getMessage() == text


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError("unexpected reply from 198.51.100.23 port 5555")
    except ValueError:
        import sys
        line = record("upload failed", exc_info=sys.exc_info())
    Redact().filter(line)
    assert "198.51.100.23" not in logging.Formatter().format(line)


def test_an_outage_is_one_line_without_a_traceback():
    import sys

    import pymongo.errors
    try:
        raise pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:27018: connection refused")
    except pymongo.errors.PyMongoError:
        line = record("error handling worker %s: %s", "<worker>", "boom", exc_info=sys.exc_info())
    Redact().filter(line)
    text = logging.Formatter().format(line)
    assert "\n" not in text and "Traceback" not in text
    assert text.endswith("(server unreachable: ServerSelectionTimeoutError)")


def test_rpc_bodies_at_debug_are_dropped_and_the_rest_kept():
    assert not Redact().filter(record("RPC reply event complete %s %s", "<reply>", "{'email': 'x'}",
                                      name="nameko.rpc", level=logging.DEBUG))
    assert Redact().filter(record("starting %s", "container", name="nameko.containers", level=logging.DEBUG))
    assert Redact().filter(record("consumer failed", name="nameko.rpc", level=logging.WARNING))


def test_an_expected_refusal_is_one_line_without_a_traceback():
    import sys
    try:
        raise ValueError("No such match.")
    except ValueError as exc:
        line = record("(expected) error handling worker %s: %s", "<WorkerContext [matching.accept_match]>", exc,
                      name="nameko.containers", level=logging.WARNING, exc_info=sys.exc_info())
    assert Redact().filter(line)
    text = logging.Formatter().format(line)
    assert "Traceback" not in text and line.levelname == "INFO" and "No such match." in text
    assert len(text.splitlines()) == 1


def test_json_lines_on_request():
    import json
    import sys

    from services.common.trust.logfilter import LogFormatter
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = record("unexpected in %s", "a handler", exc_info=sys.exc_info())
    entry = json.loads(LogFormatter(json_lines=True).format(line))
    assert entry["message"] == "unexpected in a handler" and "RuntimeError: boom" in entry["traceback"]
    assert "unexpected in a handler" in LogFormatter().format(record("unexpected in %s", "a handler"))


def test_a_message_that_cannot_be_decoded_is_logged_without_its_body():
    line = record("Can't decode message body: %r (type:%r encoding:%r raw:%r')", ValueError("bad byte"),
                  "application/json", "utf-8", "b'name of a prisoner'", name="kombu.mixins")
    Redact().filter(line)
    assert line.getMessage() == "dropped a message that could not be decoded (application/json, ValueError)"
