"""`python -m bench NAME [args]`: run one benchmark, bench/NAME.py (dashes become underscores).

Each benchmark module has `main(argv) -> exit code`. Adding a benchmark is adding a file.
"""
import importlib
import pkgutil
import sys

import bench


def available():
    return sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules(bench.__path__)
                  if not m.name.startswith("_"))


def main(argv):
    names = available()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in names:
        print(f"usage: python -m bench {{{'|'.join(names)}}} [args]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"bench.{argv[0].replace('-', '_')}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
