"""`python -m bench notify`: how fast notify hands email to the local SMTP server.

Starts the project's SMTP sink (scripts/smtp_sink.py) as a real process and a throw-away notify
database on the running FerretDB, then, in the same run:
  - baseline: N plain `smtplib` sends of an already composed message, one connection each (what
    notify does per email), to the same sink;
  - notify: N due pending emails sent by `Outgoing.send_email` (claim the email in the database,
    open the sealed address with the RSA private key, compose, send over SMTP, mark sent);
  - the RSA-OAEP open alone, N times.
Reports emails/s for each and the ratio notify / baseline (the cost of the claim and the opening).

    python -m bench notify [--emails 300]
"""
import argparse
import smtplib
import tempfile
import time
import uuid

from services.common.store import mongo
from services.common.config import load_config
from services.common.bus.events import utcnow
from services.common.trust.sealing import Opener, Sealer
from services.common.ops.secrets import new_secrets
from services.notify import mail, outgoing, retry, storage
from services.notify.tests.sink import SmtpSink


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench notify")
    parser.add_argument("--emails", type=int, default=300)
    args = parser.parse_args(argv)
    count = args.emails

    secrets = new_secrets()
    config = load_config(DB_PREFIX=f"bench_{uuid.uuid4().hex[:8]}", **secrets)
    client = mongo.connect(config)
    db = client[f"{config['DB_PREFIX']}_notify"]
    with tempfile.TemporaryDirectory() as folder:
        sink = SmtpSink(folder).start()
        try:
            storage.prepare(db)
            mailer = mail.Mailer("127.0.0.1", sink.port, "Allies <no-reply@allies.invalid>", 10)
            opener = Opener(secrets["NOTIFY_PRIVATE_KEY"])
            sealer = Sealer(secrets["NOTIFY_PUBLIC_KEY"])
            config.update(SMTP_PORT=sink.port, PUBLIC_URL="https://allies.example")

            # Baseline: raw SMTP, one connection per message.
            template = mail.compose({"_id": "baseline", "kind": "notification", "notification_ids": ["n"]},
                                    "someone@example.org", mailer.from_address, config["PUBLIC_URL"])
            start = time.perf_counter()
            for _ in range(count):
                with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
                    smtp.send_message(template)
            baseline_s = time.perf_counter() - start

            # Opening sealed addresses alone.
            sealed = [sealer.seal(f"person{i}@example.org") for i in range(count)]
            start = time.perf_counter()
            for token in sealed:
                opener.open(token)
            open_s = time.perf_counter() - start

            # notify's path: due pending emails, each claimed, opened, composed, sent, marked.
            now = utcnow()
            for i, token in enumerate(sealed):
                db[storage.PEOPLE].insert_one({"_id": f"p{i}", "contact_sealed": token, "version": 1})
                db[storage.EMAILS].insert_one({"_id": f"e{i}", "recipient_id": f"p{i}", "kind": "notification",
                                               "notification_ids": [f"n{i}"], "status": retry.PENDING,
                                               "attempts": 0, "next_attempt_at": now, "created_at": now})
            start = time.perf_counter()
            out = outgoing.Outgoing(storage.stores(db), config, mailer, opener, None, None)
            outcomes = [out.send_email(f"e{i}", utcnow()) for i in range(count)]
            notify_s = time.perf_counter() - start
            assert outcomes.count(retry.SENT) == count, outcomes
            received = len(sink.messages())
            assert received == 2 * count, received
        finally:
            sink.stop()
            client.drop_database(db.name)
            client.close()

    print(f"emails: {count} (each path), all received by the sink")
    print(f"baseline smtplib send         : {count / baseline_s:8.1f} emails/s")
    print(f"notify send_email (full path) : {count / notify_s:8.1f} emails/s")
    print(f"RSA-OAEP open of the address  : {count / open_s:8.1f} opens/s")
    print(f"ratio notify / baseline       : {baseline_s / notify_s:8.2f}")
    return 0
