"""The long schema-driven fuzz run of the /v1 API (the CI test is
tests/service/test_openapi_fuzz.py, the same machinery with fewer cases):

    .venv/bin/python scripts/fuzz_api.py [--examples 80] [--budget-s 1800] [--seed 21]

A real server (uvicorn subprocess, SQLite, the HashingEncoder: tests.support.browser.
LiveServer) with rate limits off, a few seeded resources, then schemathesis over every
operation of its OpenAPI document with an admin key: `--examples` positive and as many
negative cases per operation, each again with the path's ids pinned to the seeded
resources. Checks: server errors, status codes, content types, response bodies and headers
against the schema (tests/support/fuzz.py). Printed: cases per operation (and how many
schema-valid cases the API refused: a limit the schema does not state), distinct failures
per check with a curl line each, and the total. `--budget-s` stops generating when spent.
Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import fuzz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=80, help="cases per operation and mode")
    parser.add_argument("--budget-s", type=float, default=1800, help="stop generating after")
    parser.add_argument("--seed", type=int, default=fuzz.SEED)
    args = parser.parse_args()
    fuzz.SEED = args.seed
    os.environ.update(fuzz.FUZZ_ENV)  # the server subprocess inherits it
    from tests.support.browser import LiveServer

    with tempfile.TemporaryDirectory(prefix="clustermatch-fuzz-") as root:
        server = LiveServer(Path(root))
        try:
            world = fuzz.seed_world(server.url, server.admin_key)
            ops = fuzz.operations(fuzz.load_schema(server.url))
            stats = fuzz.Stats()
            start = time.monotonic()
            deadline = start + args.budget_s
            for op in ops:
                pins = [None, fuzz.pinned(op, world)] if fuzz.pinned(op, world) else [None]
                for mode in ("positive", "negative"):
                    for pinned in pins:
                        fuzz.fuzz_operation(
                            server.url,
                            server.admin_key,
                            op,
                            stats,
                            args.examples,
                            deadline=deadline,
                            mode=mode,
                            path_parameters=pinned,
                        )
            elapsed = time.monotonic() - start
            print(stats.report())
            print(
                f"{stats.total} cases over {len(ops)} operations in {elapsed:.0f} s "
                f"(seed {args.seed}, {args.examples} per operation, mode and path; "
                f"{'budget spent' if time.monotonic() > deadline else 'within budget'}); "
                f"{len(stats.failures)} distinct failures"
            )
            return 1 if stats.failures else 0
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
