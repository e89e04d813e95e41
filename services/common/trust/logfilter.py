"""What a log line may never hold: a network address, an RPC reply, a message's body.

Attached to every handler by config.yaml's LOGGING, so it holds at any level, for any library:
eventlet's web server logs the client's address when a client drops mid-upload, and at DEBUG
nameko logs the body of every RPC reply (`RPC reply event complete ... <body>`). Addresses are
replaced by `[address]`; the DEBUG lines of libraries that log bodies (nameko's RPC, pymongo's
commands, the index and broker clients) are dropped.
"""
import json
import logging
import re

from services.common import tracecontext
from services.common.outage import is_outage

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
# Four or more groups (an ISO time has three), or a "::" abbreviation.
_IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])[0-9A-Fa-f:]*::[0-9A-Fa-f:.]*\w"
ADDRESS = re.compile(f"{_IPV4}|{_IPV6}")
# Loggers whose DEBUG lines carry bodies: RPC replies, database commands and their documents
# (pymongo logs every command whole), index requests, broker frames.
BODY_LOGGERS = ("nameko.rpc", "nameko.standalone.rpc", "nameko.messaging", "pymongo", "elastic_transport",
                "elasticsearch", "urllib3", "kombu", "amqp", "psycopg")


# nameko logs each refusal an entrypoint declares as expected (a validation error, "No such
# match") as a warning with a whole traceback: four minutes of checks left 39,000 lines. It is the
# service doing its job: one line at INFO, no traceback.
EXPECTED_REFUSAL = "(expected) error handling worker %s: %s"


# kombu drops (acks) a message it cannot decode, and logs its raw body with the error: the body is
# whatever was put on the bus. Said without it.
UNDECODABLE = "Can't decode message body: %r (type:%r encoding:%r raw:%r')"


class Redact(logging.Filter):
    def filter(self, record):
        if record.msg == UNDECODABLE and len(record.args or ()) == 4:
            exc, content_type = record.args[0], record.args[1]
            record.msg, record.args = "dropped a message that could not be decoded (%s, %s)", (
                content_type, type(exc).__name__)
        if record.levelno < logging.INFO and record.name.startswith(BODY_LOGGERS):
            return False
        if record.msg == EXPECTED_REFUSAL:
            record.msg = "refused %s: %s"
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        if record.exc_info and record.exc_info[1] is not None and is_outage(record.exc_info[1]):
            # A server down (a timer's query while the database restarts): expected in operation,
            # said in one line; a traceback per tick would bury what is really wrong.
            record.msg, record.args = f"{record.getMessage()} (server unreachable: {type(record.exc_info[1]).__name__})", ()
            record.exc_info, record.exc_text = None, None
        message = record.getMessage()
        cleaned = ADDRESS.sub("[address]", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Tracebacks are formatted later, from the exception: format and redact them now.
            record.exc_text = ADDRESS.sub("[address]", logging.Formatter().formatException(record.exc_info))
        return True


class LogFormatter(logging.Formatter):
    """Plain lines, or one JSON object per line (`LOG_JSON=true`) for a log collector; a line written
    while a traced act is handled names its trace (`trace=<id>`, services/common/tracing.py), so
    that the log and the trace of one act find each other."""

    def __init__(self, fmt=None, datefmt=None, json_lines=False):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s%(trace)s", datefmt)
        self.json_lines = bool(json_lines)

    def format(self, record):
        trace_id = tracecontext.trace_id()
        if not self.json_lines:
            record.trace = f" trace={trace_id}" if trace_id else ""
            return super().format(record)
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if trace_id:
            entry["trace_id"] = trace_id
        if record.exc_info or record.exc_text:
            entry["traceback"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
