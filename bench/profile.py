"""Where the services' own time goes under load: py-spy attached to each service process.

`./dev bench pipeline --profile` samples every Python service while the last rate is offered
(py-spy reads the running process from outside; nothing in the service changes), writes each
service's stacks to `.local/profiles/<service>.txt` (collapsed stacks, which speedscope.app or
flamegraph.pl draw) and prints, per service, the project's functions on the stack in the largest
share of its samples. That is how the per-event schema construction and search's one request
per index write were found (docs/performance.md). Sampling six processes takes CPU of its own:
compare figures of a profiled rate only with each other.
"""
import collections
import os
import shutil
import subprocess
import sys

SAMPLES_PER_S = 50
TOP = 8


def py_spy():
    path = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
    if path is None:
        raise SystemExit("py-spy is missing: it comes with requirements-dev.txt (./dev test installs it)")
    return path


class Profiler:
    """py-spy record on each of `pids` ({service: pid}) for `seconds`."""

    def __init__(self, pids, folder, seconds):
        self.pids, self.folder, self.seconds = pids, folder, max(1, int(seconds))
        os.makedirs(folder, exist_ok=True)
        self.recorders = {}

    def start(self):
        for service, pid in self.pids.items():
            raw = os.path.join(self.folder, f"{service}.txt")
            self.recorders[service] = subprocess.Popen(
                [py_spy(), "record", "--pid", str(pid), "--rate", str(SAMPLES_PER_S), "--format", "raw",
                 "--output", raw, "--nonblocking", "--duration", str(self.seconds)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        """Wait for the recordings to end and print the summary."""
        for service, recorder in self.recorders.items():
            try:
                recorder.wait(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
                print(f"  {service}: py-spy did not finish; no profile")
                continue
            raw = os.path.join(self.folder, f"{service}.txt")
            if os.path.exists(raw):
                print_summary(service, raw)


def inclusive_shares(raw, prefix="services/"):
    """{function (file): share of samples in which it is on the stack}, for the project's code."""
    counts, total = collections.Counter(), 0
    with open(raw) as handle:
        for line in handle:
            stack, _, number = line.rstrip().rpartition(" ")
            if not number.isdigit():
                continue
            total += int(number)
            seen = set()
            for frame in stack.split(";"):
                name, _, where = frame.partition(" (")
                where = where.split(":")[0]
                if prefix in where and (name, where) not in seen:
                    seen.add((name, where))
                    counts[(name, where[where.index(prefix):])] += int(number)
    return {key: count / total for key, count in counts.items()} if total else {}


def print_summary(service, raw):
    shares = sorted(inclusive_shares(raw).items(), key=lambda item: -item[1])
    print(f"  {service}: " + "; ".join(f"{name} ({where}) {share:.0%}" for (name, where), share in shares[:TOP]))
