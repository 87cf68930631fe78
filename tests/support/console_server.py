"""The app as a real server for the browser tests, on a listening socket handed over by
the test process (no port race):

    python -m tests.support.console_server --fd N --root DIR

Settings as in tests.support.app.make_settings (SQLite under DIR/data); the HashingEncoder stands
in for the model, so the server is up in a second or two."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()

    import uvicorn

    from models.encoders import HashingEncoder
    from service.app import create_app
    from tests.support.app import make_settings

    settings = make_settings(args.root, log_level=args.log_level)
    app = create_app(settings, encoder=HashingEncoder(dim=64))
    # uvicorn's own access log is off, as `clustermatch serve` runs it: the app's is the one
    config = uvicorn.Config(app, log_level=args.log_level.lower(), access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=args.fd)])


if __name__ == "__main__":
    main()
