"""`python -m tests [pytest args]`: pytest under eventlet, as `nameko test` does it.

It exits with os._exit once pytest is done: eventlet's patched threading makes the interpreter's
own shutdown print spurious "greenlet is being finalized" tracebacks after pytest's summary.
"""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

code = pytest.main(sys.argv[1:] + ["-W", "ignore:Module already imported:_pytest.warning_types.PytestWarning"])
sys.stdout.flush()
sys.stderr.flush()
os._exit(int(code))
