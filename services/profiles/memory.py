"""In-memory twins of storage.py's stores, for the workflow's fast tests; each passes the same
contract test as the real store on FerretDB (tests/test_store_contract.py)."""
from datetime import timedelta

from services.common.bus.events import utcnow
from services.common.errors import Conflict
from services.common.store.memory import Outboxes, copied

from .accounts import attempt_ids


_copy = copied


class InMemoryAccountStore:
    def __init__(self, clock=utcnow):
        self.accounts, self.clock = {}, clock
        self.outbox = Outboxes()

    def insert(self, account, events):
        if account["_id"] in self.accounts or any(a["handle_key"] == account["handle_key"]
                                                  for a in self.accounts.values()):
            raise Conflict("That handle is taken.", {"handle": "That handle is taken."})
        self.accounts[account["_id"]] = _copy(account)
        self.outbox.stage(account["_id"], list(events))
        return account["_id"]

    def publish(self, inserted, dispatch):
        self.flush(inserted, dispatch)

    def flush(self, account_id, dispatch):
        self.outbox.flush(account_id, dispatch)

    def flush_pending(self, dispatch):
        self.outbox.flush_all(dispatch)

    def check_handle_free(self, held_key, now):
        grave = next((a for a in self.accounts.values() if a["handle_key"] == held_key), None)
        if grave is None:
            return
        if grave["held_until"] > now:
            raise Conflict("That handle is taken.", {"handle": "That handle is taken."})
        grave["handle_key"] = f"deleted:{grave['_id']}"
        grave.pop("held_until", None)

    def find(self, account_id):
        account = self.accounts.get(account_id)
        return None if account is None or account["status"] == "deleted" else _copy(account)

    def find_by_handle_key(self, key):
        return _copy(next((a for a in self.accounts.values() if a["handle_key"] == key), None))

    def find_by_channel_key(self, key):
        found = next((a for a in self.accounts.values() if key in a.get("channel_keys", [])), None)
        return None if found is None or found["status"] == "deleted" else _copy(found)

    def set_link_code(self, account_id, code_key, expires_at):
        account = self.accounts.get(account_id)
        if account is not None and account["status"] == "active":
            account.update(link_code_key=code_key, link_code_expires_at=expires_at)

    def find_by_link_code(self, code_key, now):
        found = next((a for a in self.accounts.values() if a.get("link_code_key") == code_key), None)
        if found is None or found["status"] != "active" or found["link_code_expires_at"] <= now:
            return None
        return _copy(found)

    def set_check_in(self, account_id, check_in, duress_hash=None, decoy_id=None):
        account = self.accounts.get(account_id)
        if account is None or account["status"] != "active":
            return
        if check_in is None:
            account.pop("check_in", None)
            account.pop("duress_hash", None)
            return
        account["check_in"] = _copy(check_in)
        if duress_hash:
            account.update(duress_hash=duress_hash, decoy_id=decoy_id)
        else:
            account.pop("duress_hash", None)

    def insert_decoy(self, decoy):
        self.accounts[decoy["_id"]] = _copy(decoy)

    def delete_decoy(self, decoy_id):
        if "decoy_of" in self.accounts.get(decoy_id, {}):
            del self.accounts[decoy_id]

    def walk_due_check_ins(self, now, handle):
        found = [_copy(a) for a in self.accounts.values() if (a.get("check_in") or {}).get("due_at") is not None
                 and a["check_in"]["due_at"] <= now]
        handle(found)
        return len(found)

    def check_in_missed(self, account_id, due_at, now, events):
        check_in = (self.accounts.get(account_id) or {}).get("check_in")
        if not check_in or check_in.get("due_at") != due_at:
            return False
        check_in.pop("due_at")
        check_in["missed_at"] = now
        self.outbox.stage(account_id, list(events))
        return True

    def checked_in(self, account_id, due_at, events_if_missed):
        check_in = (self.accounts.get(account_id) or {}).get("check_in")
        if not check_in:
            return False
        missed = check_in.get("missed_at") is not None
        check_in.update(due_at=due_at, missed_at=None)
        if missed:
            self.outbox.stage(account_id, list(events_if_missed))
        return missed

    def update(self, account_id, change, make_events):
        current = self.find(account_id)
        if current is None:
            return None
        updated = dict(current, **change(current), updated_at=self.clock(), version=current["version"] + 1)
        self.accounts[account_id] = _copy(updated)
        self.outbox.stage(account_id, make_events(_copy(updated)))
        return updated

    def set_password_hash(self, account_id, password_hash):
        if account_id in self.accounts:
            self.accounts[account_id].update(password_hash=password_hash, updated_at=self.clock())

    def replace_with_tombstone(self, account, tombstone, events):
        stored = self.accounts.get(account["_id"])
        if stored is None or stored["version"] != account["version"]:
            raise Conflict("The account changed while deleting; try again.")
        self.accounts[account["_id"]] = _copy(tombstone)
        self.outbox.stage(account["_id"], events)

    def export_page(self, after_id, limit):
        found = sorted((a for a in self.accounts.values() if a["status"] != "deleted" and "decoy_of" not in a
                        and (after_id is None or a["_id"] > after_id)), key=lambda a: a["_id"])
        return [_copy(a) for a in found[:limit]]


class InMemorySessionStore:
    def __init__(self):
        self.sessions = {}

    def insert(self, session):
        self.sessions[session["_id"]] = _copy(session)

    def find(self, session_id):
        return _copy(self.sessions.get(session_id))

    def delete(self, session_id):
        self.sessions.pop(session_id, None)

    def delete_of(self, account_id):
        gone = [k for k, s in self.sessions.items() if s["account_id"] == account_id]
        for key in gone:
            del self.sessions[key]
        return len(gone)

    def purge_expired(self, now):
        gone = [k for k, s in self.sessions.items() if s["expires_at"] < now]
        for key in gone:
            del self.sessions[key]
        return len(gone)


class InMemoryAttemptStore:
    def __init__(self, clock=utcnow):
        self.attempts, self.clock = {}, clock

    def failures(self, handle_key, source, window_s):
        cutoff = self.clock() - timedelta(seconds=window_s)
        out = {"pair": (0, None), "account": (0, None), "source": (0, None)}
        for kind, attempt_id in attempt_ids(handle_key, source).items():
            doc = self.attempts.get(attempt_id)
            if doc is not None and doc["since"] >= cutoff:
                out[kind] = (doc["failures"], doc["last"])
        return out

    def _count_up(self, attempt_id, window_s, handle_key=None):
        now = self.clock()
        doc = self.attempts.get(attempt_id)
        if doc is None or doc["since"] < now - timedelta(seconds=window_s):
            doc = self.attempts[attempt_id] = {"failures": 0, "since": now, "handle": handle_key}
        doc.update(failures=doc["failures"] + 1, last=now)
        return doc["failures"]

    def record_failure(self, handle_key, source, window_s):
        for kind, attempt_id in attempt_ids(handle_key, source).items():
            self._count_up(attempt_id, window_s, handle_key if kind != "source" else None)

    def count_sign_up(self, source, window_s):
        return self._count_up(f"signup:{source}", window_s)

    def clear_failures(self, handle_key, source=None):
        if source is None:
            self.attempts = {k: d for k, d in self.attempts.items() if d.get("handle") != handle_key}
        else:
            ids = attempt_ids(handle_key, source)
            for key in (ids["pair"], ids["account"]):
                self.attempts.pop(key, None)

    def purge_stale(self, window_s):
        cutoff = self.clock() - timedelta(seconds=window_s)
        gone = [k for k, d in self.attempts.items() if d["since"] < cutoff]
        for key in gone:
            del self.attempts[key]
        return len(gone)
