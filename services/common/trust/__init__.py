"""What the services trust: the keyring of the bus (keyring.py: sealed payloads, signed viewers,
authors' decisions, operator commands), sealing, text at rest, privacy checks, log filtering."""
