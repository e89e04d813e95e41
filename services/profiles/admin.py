"""Operator commands for profiles, run against a live deployment over RPC.

    python -m services.profiles.admin grant-role HANDLE moderator|analyst|volunteer|activist

Moderators and analysts cannot sign themselves up; an operator appoints them with this. The
command is signed with the operator's key (OPERATOR_SIGNING_KEY), which only the operator's
environment holds: profiles refuses a grant from anyone else (services/common/trust/keyring.py).
"""
import argparse
import sys

from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import load_config
from services.common.errors import DomainError
from services.common.trust.keyring import keyring


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.profiles.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    grant = commands.add_parser("grant-role", help="appoint a moderator or analyst")
    grant.add_argument("handle")
    grant.add_argument("role")
    args = parser.parse_args(argv)

    with ClusterRpcProxy(load_config(), timeout=30) as rpc:
        try:
            result = rpc.profiles.grant_role(keyring().sign_command({"handle": args.handle, "role": args.role}))
        except DomainError as exc:
            print(f"error: {exc.message} {exc.fields or ''}".strip(), file=sys.stderr)
            return 1
    print(f"{result['handle']} is now {result['role']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
