"""What a log line may never hold: a network address, an RPC reply.

Attached to every handler by config.yaml's LOGGING, so it holds at any level, for any library:
eventlet's web server logs the client's address when a client drops mid-upload, and at DEBUG
nameko logs the body of every RPC reply (`RPC reply event complete ... <body>`). Addresses are
replaced by `[address]`; the DEBUG lines of libraries that log bodies (nameko's RPC, pymongo's
commands, the index and broker clients) are dropped.
"""
import logging
import re

_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
# Four or more groups (an ISO time has three), or a "::" abbreviation.
_IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])[0-9A-Fa-f:]*::[0-9A-Fa-f:.]*\w"
ADDRESS = re.compile(f"{_IPV4}|{_IPV6}")
# Loggers whose DEBUG lines carry bodies: RPC replies, database commands and their documents
# (pymongo logs every command whole), index requests, broker frames.
BODY_LOGGERS = ("nameko.rpc", "nameko.standalone.rpc", "nameko.messaging", "pymongo", "elastic_transport",
                "elasticsearch", "urllib3", "kombu", "amqp", "psycopg")


class Redact(logging.Filter):
    def filter(self, record):
        if record.levelno < logging.INFO and record.name.startswith(BODY_LOGGERS):
            return False
        message = record.getMessage()
        cleaned = ADDRESS.sub("[address]", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Tracebacks are formatted later, from the exception: format and redact them now.
            record.exc_text = ADDRESS.sub("[address]", logging.Formatter().formatException(record.exc_info))
        return True
