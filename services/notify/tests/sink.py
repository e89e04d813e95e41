"""The project's SMTP server (scripts/smtp_sink.py) as a real process a test starts and stops by pid."""
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys

from services.common.config import ROOT
from tests.support import start_process, wait_until

SCRIPT = os.path.join(ROOT, "scripts", "smtp_sink.py")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self, folder, port=None):
        self.folder = str(folder)
        self.port = port or free_port()
        self.process = None

    def start(self):
        self.process = start_process(
            [sys.executable, SCRIPT, "--host", "127.0.0.1", "--port", str(self.port), "--dir", self.folder],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        line = self.process.stdout.readline().decode()
        assert line.startswith("ready"), f"the SMTP sink did not start: {line!r}"
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
            self.process.stdout.close()
        self.process = None

    def messages(self):
        """Every message received so far, oldest first, parsed."""
        if not os.path.isdir(self.folder):
            return []
        found = []
        for name in sorted(os.listdir(self.folder)):
            if name.endswith(".eml"):
                with open(os.path.join(self.folder, name), "rb") as handle:
                    found.append(email.message_from_binary_file(handle, policy=email.policy.default))
        return found

    def to(self, address):
        return [m for m in self.messages() if m["To"] == address]

    def wait_for(self, address, count=1, timeout=20):
        return wait_until(lambda: len(self.to(address)) >= count and self.to(address), timeout=timeout,
                          message=f"{count} email(s) in the SMTP sink")
