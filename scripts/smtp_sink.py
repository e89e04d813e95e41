"""A real, local SMTP server that keeps every message it receives as a file: for tests and `./dev up`.

    python scripts/smtp_sink.py --host 127.0.0.1 --port 8025 --dir .local/mail

Each message is written to `<dir>/<received-at>-<uuid>.eml` (written to a temporary name and
renamed, so a reader never sees half a message). Nothing is relayed anywhere. It logs only
warnings: the addresses of the messages it keeps must not end up in a log either.

It prints `ready <host>:<port>` on stdout once it accepts connections, and stops on SIGTERM/SIGINT.
"""
import argparse
import logging
import os
import signal
import sys
import threading
import time
import uuid

from aiosmtpd.controller import Controller


class KeepInFolder:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        temporary = os.path.join(self.folder, f".{name}.tmp")
        with open(temporary, "wb") as handle:
            content = envelope.original_content or envelope.content
            handle.write(content if isinstance(content, bytes) else content.encode())
        os.replace(temporary, os.path.join(self.folder, f"{name}.eml"))
        return "250 Message accepted for delivery"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default=".local/mail")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    controller = Controller(KeepInFolder(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"ready {args.host}:{args.port}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
