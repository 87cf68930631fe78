"""Build the Dockerfile, run the image and check it (scripts/container-check runs this).

Checks: the image runs as a non-root user, keeps its data in the /data volume and holds no
test tools; started with CLUSTERMATCH_BOOTSTRAP_ADMIN_KEY, /readyz answers 200, the demo
corpus loads over the API with that key and a match list answers, and a console page
answers for an organizer signed in through the console's own set-password form. Then the
container is stopped and started again on the same volume (the profiles are still there).
Prints the image's size and its start time, container start to /readyz 200, for the first
start (empty volume) and the restart.

    scripts/container-check [--engine auto|docker|buildah] [--base-image IMAGE] [--make-base]

Engine: `docker` where `docker info` answers (a running daemon), otherwise `buildah`
(daemonless: `buildah bud --isolation chroot`, storage driver vfs unless STORAGE_DRIVER
says otherwise; the container runs under `buildah run`, which shares the host's network,
on a free port). `--make-base` builds a local base image with debootstrap (Debian bookworm,
python3, python3-venv) once and uses it as BASE_IMAGE; otherwise the Dockerfile's default
(python:3.11-slim) comes from a registry.

pip inside the build gets this machine's pip settings (`pip config list` and the PIP_*
variables) as build arguments. Local folders and files they name (an index, a wheel folder,
a constraints file) are served to the build over HTTP on 127.0.0.1 while it runs, and a CA
bundle (`cert`) is mounted over the image's own for the RUN steps only (buildah): nothing
of them stays in the image, and the same Dockerfile builds unchanged elsewhere. Only the
standard library: it runs with any python3 >= 3.11.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/clustermatch:check"
LOCAL_BASE = "localhost/clustermatch-base:bookworm"
# The pip settings the Dockerfile takes as build arguments (ARG): the others (say
# disable-pip-version-check) do not change what is installed.
PIP_ARGS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_CONSTRAINT",
    "PIP_DEFAULT_TIMEOUT",
)
# ... those of them that may name local folders or files
PATH_ARGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT")
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
CA_IN_IMAGE = "/etc/ssl/certs/ca-certificates.crt"  # in python:3.11-slim and Debian's python3
DATA_DIR = "/data"
READY_TIMEOUT_S = 600.0
DEMO = ROOT / "service" / "demo" / "organizations.jsonl"
PROBE_ID = "jp-tama-001"  # a demo profile with overseas matches (Italian trading firms)


class Failure(Exception):
    """A check that did not pass (or a step that could not run)."""


def say(message: str) -> None:
    print(f"container-check: {message}", flush=True)


def sh(
    argv: Sequence[str],
    *,
    check: bool = True,
    capture: bool = True,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    done = subprocess.run(
        list(argv), capture_output=capture, text=True, env=env, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        tail = (done.stderr or "")[-3000:] if capture else ""
        raise Failure(f"`{' '.join(argv[:6])} ...` exited {done.returncode}\n{tail}")
    return done.stdout or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


# ---------------------------------------------------------------------------- pip settings


def host_pip_settings() -> dict[str, str]:
    """PIP_* values as pip on this machine sees them: its config files (global, then
    install), then the PIP_* environment, which wins (as in pip)."""
    rank = {"global": 0, "install": 1, ":env:": 2}
    found: dict[str, tuple[int, str]] = {}
    try:
        listing = sh([sys.executable, "-m", "pip", "config", "list"], timeout=60)
    except (Failure, OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        m = re.fullmatch(r"([^.]*)\.([\w-]+)='(.*)'", line.strip())
        if not m or m[1] not in rank:
            continue
        name = "PIP_" + m[2].upper().replace("-", "_")
        if name not in found or rank[m[1]] >= found[name][0]:
            found[name] = (rank[m[1]], m[3])
    values = {name: value for name, (_, value) in found.items()}
    values.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    return values


def local_path(item: str) -> Path | None:
    """The local file or folder a pip setting names (a path or a file:// URL), else None."""
    if item.startswith("file:"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(item).path))
    if "://" in item:
        return None
    return Path(item)


def masked(value: str) -> str:
    """A URL's user and password left out (for printing)."""
    return re.sub(r"//[^/@\s]+@", "//***@", value)


class FileServer:
    """Serves the allowed local folders and files on 127.0.0.1 (GET and HEAD only; the URL
    path is the file's own path), for the build's pip."""

    def __init__(self) -> None:
        self.roots: list[str] = []
        roots = self.roots

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory="/", **kwargs)

            def translate_path(self, path: str) -> str:
                real = os.path.realpath(super().translate_path(path))
                if any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
                    return real
                return "/nonexistent/denied"

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def allow(self, path: Path) -> None:
        self.roots.append(os.path.realpath(path))

    def url(self, path: Path) -> str:
        tail = "/" if path.is_dir() else ""
        return f"http://127.0.0.1:{self.port}{urllib.parse.quote(str(path.resolve()))}{tail}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()


@dataclass
class BuildInputs:
    args: dict[str, str] = field(default_factory=dict)
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (host, image), RUN only
    notes: list[str] = field(default_factory=list)


def pip_build_inputs(
    settings: dict[str, str], server: FileServer, *, can_mount: bool
) -> BuildInputs:
    """This machine's pip settings as the Dockerfile's build arguments: local indexes,
    folders and files become URLs of `server`, a CA bundle a mount over the image's."""
    out = BuildInputs()
    served = False
    for name, value in sorted(settings.items()):
        if name not in PIP_ARGS:
            out.notes.append(f"{name} not passed (does not change what is installed)")
            continue
        if name == "PIP_CERT":
            cert = Path(value)
            if not cert.is_file():
                out.notes.append(f"PIP_CERT {value} is not a file: not passed")
            elif can_mount:
                out.mounts.append((str(cert.resolve()), CA_IN_IMAGE))
                out.args[name] = CA_IN_IMAGE
            else:
                out.notes.append("PIP_CERT not passed: this engine mounts nothing into a build")
            continue
        items = []
        for item in value.split():
            path = local_path(item) if name in PATH_ARGS else None
            if path is None:
                items.append(item)
            elif not path.exists():
                out.notes.append(f"{name}: {item} does not exist here, left out")
            else:
                # An index's pages link to files beside it (../../files/...): serve its parent.
                is_index = name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL") and path.is_dir()
                server.allow(path.parent if is_index else path)
                items.append(server.url(path))
                served = True
        if items:
            out.args[name] = " ".join(items)
    if served:
        trusted = out.args.get("PIP_TRUSTED_HOST", "").split()
        out.args["PIP_TRUSTED_HOST"] = " ".join([*trusted, f"127.0.0.1:{server.port}"])
    return out


# ---------------------------------------------------------------------------- engines


@dataclass
class Running:
    """A started container: the process or container name, and the data volume."""

    name: str
    port: int
    started_at: float
    proc: subprocess.Popen[bytes] | None = None


class Engine:
    label = ""

    def build(self, tag: str, args: dict[str, str], mounts: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    def size_bytes(self, tag: str) -> int:
        raise NotImplementedError

    def config(self, tag: str) -> dict[str, Any]:
        raise NotImplementedError

    def prepare(self, tag: str) -> None:
        """Whatever must exist before the first start (a volume, a working container)."""

    def start(self, tag: str, port: int, env: dict[str, str]) -> Running:
        raise NotImplementedError

    def exec(self, running: Running | None, argv: Sequence[str], env: dict[str, str]) -> str:
        raise NotImplementedError

    def data_files(self, running: Running) -> list[str]:
        raise NotImplementedError

    def stop(self, running: Running) -> None:
        raise NotImplementedError

    def logs(self, running: Running) -> str:
        return ""

    def cleanup(self) -> None:
        pass

    def import_base(self, rootfs: Path, tag: str) -> None:
        raise NotImplementedError

    def has_image(self, tag: str) -> bool:
        return self.image_id(tag) is not None

    def image_id(self, tag: str) -> str | None:
        raise NotImplementedError

    def remove_image(self, image: str) -> None:
        raise NotImplementedError


class Docker(Engine):
    def __init__(self) -> None:
        version = sh(["docker", "version", "--format", "{{.Server.Version}}"]).strip()
        self.label = f"docker {version}"
        self.volume = f"clustermatch-check-{secrets.token_hex(4)}"
        self.names: list[str] = []

    def build(self, tag: str, args: dict[str, str], mounts: list[tuple[str, str]]) -> None:
        argv = ["docker", "build", "--network", "host", "-t", tag]
        for k, v in args.items():
            argv += ["--build-arg", f"{k}={v}"]
        for k in PROXY_VARS:
            if k in os.environ:
                argv += ["--build-arg", f"{k}={os.environ[k]}"]
        sh([*argv, str(ROOT)], capture=False)

    def size_bytes(self, tag: str) -> int:
        return int(sh(["docker", "image", "inspect", "-f", "{{.Size}}", tag]).strip())

    def config(self, tag: str) -> dict[str, Any]:
        cfg: dict[str, Any] = json.loads(sh(["docker", "image", "inspect", tag]))[0]["Config"]
        return cfg

    def prepare(self, tag: str) -> None:
        sh(["docker", "volume", "create", self.volume])

    def start(self, tag: str, port: int, env: dict[str, str]) -> Running:
        name = f"clustermatch-check-{secrets.token_hex(4)}"
        self.names.append(name)
        argv = ["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000"]
        argv += ["-v", f"{self.volume}:{DATA_DIR}"]
        for k, v in env.items():
            argv += ["-e", f"{k}={v}"]
        started = time.monotonic()
        sh([*argv, tag])
        return Running(name, port, started)

    def exec(self, running: Running | None, argv: Sequence[str], env: dict[str, str]) -> str:
        if running is None:  # a one-off container of the image
            flags = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
            return sh(["docker", "run", "--rm", *flags, "--entrypoint", argv[0], IMAGE, *argv[1:]])
        flags = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        return sh(["docker", "exec", *flags, running.name, *argv])

    def data_files(self, running: Running) -> list[str]:
        mounts = json.loads(sh(["docker", "inspect", running.name]))[0]["Mounts"]
        if not any(m.get("Destination") == DATA_DIR and m.get("Type") == "volume" for m in mounts):
            raise Failure(f"{DATA_DIR} is not a volume in the running container: {mounts}")
        return self.exec(running, ["ls", "-A", DATA_DIR], {}).split()

    def stop(self, running: Running) -> None:
        sh(["docker", "stop", "-t", "60", running.name], check=False)

    def logs(self, running: Running) -> str:
        return sh(["docker", "logs", "--tail", "60", running.name], check=False)

    def cleanup(self) -> None:
        for name in self.names:
            sh(["docker", "rm", "-f", name], check=False)
        sh(["docker", "volume", "rm", "-f", self.volume], check=False)

    def import_base(self, rootfs: Path, tag: str) -> None:
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            [
                "docker",
                "import",
                "--change",
                'CMD ["/bin/bash"]',
                "--change",
                "ENV LANG=C.UTF-8",
                "-",
                tag,
            ],
            stdin=tar.stdout,
            check=True,
        )
        tar.wait()

    def image_id(self, tag: str) -> str | None:
        done = subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Id}}", tag], capture_output=True, text=True
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def remove_image(self, image: str) -> None:
        sh(["docker", "rmi", image], check=False)


class Buildah(Engine):
    """Daemonless: builds with chroot isolation and runs the server under `buildah run`
    in one working container of the image (host network, a free port). buildah gives the
    image's VOLUME a folder of the working container's own (buildah-volumes), kept across
    runs, as docker gives it a named volume."""

    def __init__(self, work: Path) -> None:
        self.driver = os.environ.get("STORAGE_DRIVER", "vfs")
        self.b = ["buildah", "--storage-driver", self.driver]
        version = sh([*self.b, "version"])
        m = re.search(r"Version:\s*(\S+)", version)
        self.label = f"buildah {m[1] if m else '?'} (chroot isolation, {self.driver} storage)"
        self.work = work
        self.container: str | None = None
        self.logfile = work / "server.log"

    def build(self, tag: str, args: dict[str, str], mounts: list[tuple[str, str]]) -> None:
        argv = [*self.b, "bud", "--isolation", "chroot", "--format", "docker", "-t", tag]
        for k, v in args.items():
            argv += ["--build-arg", f"{k}={v}"]
        for host, inside in mounts:
            argv += ["--volume", f"{host}:{inside}:ro"]
        env = dict(os.environ)  # (buildah passes the proxy variables on by itself)
        if any(k in env for k in PROXY_VARS if "no" not in k.lower()):
            for k in ("NO_PROXY", "no_proxy"):
                env[k] = ",".join(x for x in (env.get(k, ""), "127.0.0.1") if x)
        sh([*argv, str(ROOT)], capture=False, env=env)

    def size_bytes(self, tag: str) -> int:
        # `buildah images` rounds; the image's layers as stored are exact (uncompressed)
        info = json.loads(sh([*self.b, "inspect", "--type", "image", tag]))
        manifest = json.loads(info["Manifest"])
        return sum(int(layer["size"]) for layer in manifest["layers"])

    def config(self, tag: str) -> dict[str, Any]:
        info = json.loads(sh([*self.b, "inspect", "--type", "image", tag]))
        cfg: dict[str, Any] = (info.get("Docker") or {}).get("config") or info["OCIv1"]["config"]
        return cfg

    def prepare(self, tag: str) -> None:
        name = f"clustermatch-check-{secrets.token_hex(4)}"
        self.container = sh([*self.b, "from", "--name", name, tag]).strip()

    def _run_argv(self, argv: Sequence[str], env: dict[str, str]) -> list[str]:
        assert self.container is not None
        flags = ["--isolation", "chroot"]
        for k, v in env.items():
            flags += ["--env", f"{k}={v}"]
        return [*self.b, "run", *flags, self.container, "--", *argv]

    def start(self, tag: str, port: int, env: dict[str, str]) -> Running:
        cfg = self.config(tag)
        argv = [*(cfg.get("Entrypoint") or []), *(cfg.get("Cmd") or [])]
        # The image's own command; with the host's network, on a free port of loopback.
        argv = [
            str(port) if prev == "--port" else "127.0.0.1" if prev == "--host" else a
            for prev, a in zip(["", *argv[:-1]], argv, strict=True)
        ]
        log = self.logfile.open("ab")
        started = time.monotonic()
        proc = subprocess.Popen(
            self._run_argv(argv, env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return Running(self.container or "", port, started, proc)

    def exec(self, running: Running | None, argv: Sequence[str], env: dict[str, str]) -> str:
        return sh(self._run_argv(argv, env), timeout=600)

    def data_files(self, running: Running) -> list[str]:
        # /data must be a mount (buildah's volume for the image's VOLUME, kept with the
        # working container across runs), and the container's own layer must hold none of it
        seen = self.exec(running, ["sh", "-c", f"grep ' {DATA_DIR} ' /proc/self/mountinfo"], {})
        source = seen.split()[3] if seen.strip() else ""
        if "buildah-volumes" not in source:
            raise Failure(f"{DATA_DIR} is not a volume in the container: {seen!r}")
        assert self.container is not None
        layer = Path(sh([*self.b, "mount", self.container]).strip()) / DATA_DIR.lstrip("/")
        in_layer = sorted(p.name for p in layer.iterdir())
        sh([*self.b, "umount", self.container], check=False)
        if in_layer:
            raise Failure(f"the container's own {DATA_DIR} holds {in_layer}")
        return self.exec(running, ["ls", "-A", DATA_DIR], {}).split()

    def stop(self, running: Running) -> None:
        proc = running.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # buildah run and the server: one process group
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def logs(self, running: Running) -> str:
        with suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-60:])
        return ""

    def cleanup(self) -> None:
        if self.container:
            sh([*self.b, "rm", self.container], check=False)

    def import_base(self, rootfs: Path, tag: str) -> None:
        ctr = sh([*self.b, "from", "scratch"]).strip()
        try:
            mnt = Path(sh([*self.b, "mount", ctr]).strip())
            sh(["cp", "-a", f"{rootfs}/.", f"{mnt}/"])
            sh([*self.b, "umount", ctr])
            sh(
                [
                    *self.b,
                    "config",
                    "--env",
                    "LANG=C.UTF-8",
                    "--env",
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "--cmd",
                    '["/bin/bash"]',
                    ctr,
                ]
            )
            sh([*self.b, "commit", "--format", "docker", ctr, tag], capture=False)
        finally:
            sh([*self.b, "rm", ctr], check=False)

    def image_id(self, tag: str) -> str | None:
        done = subprocess.run(
            [*self.b, "inspect", "--type", "image", "--format", "{{.FromImageID}}", tag],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def remove_image(self, image: str) -> None:
        sh([*self.b, "rmi", image], check=False)


def pick_engine(wanted: str, work: Path) -> Engine:
    docker_ok = (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )
    if wanted == "docker" or (wanted == "auto" and docker_ok):
        if not docker_ok:
            raise Failure("docker: `docker info` fails (no engine running)")
        return Docker()
    if shutil.which("buildah") is None:
        raise Failure(
            "no container engine: `docker info` fails and buildah is not installed"
            " (apt-get install -y buildah debootstrap)"
        )
    if wanted == "auto" and shutil.which("docker"):
        say("docker is installed but `docker info` fails (no engine): using buildah")
    return Buildah(work)


# ---------------------------------------------------------------------------- base image


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (for debootstrap)."""
    for source in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        with suppress(OSError):
            for m in re.finditer(r"(https?://\S+/debian)(?=\s|$)", source.read_text()):
                return m[1]
    return "http://deb.debian.org/debian"


def make_base(engine: Engine, tag: str, mirror: str, rebuild: bool) -> None:
    if engine.has_image(tag) and not rebuild:
        say(f"base image {tag} is there (cached; --rebuild-base makes it again)")
        return
    if shutil.which("debootstrap") is None:
        raise Failure("--make-base needs debootstrap (apt-get install -y debootstrap)")
    rootfs = Path(tempfile.mkdtemp(prefix="clustermatch-base-", dir="/var/tmp"))
    try:
        say(f"debootstrap bookworm from {mirror} into {rootfs} (a few minutes)")
        t0 = time.monotonic()
        sh(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip",
                "bookworm",
                str(rootfs),
                mirror,
            ],
            capture=False,
        )
        sh(["chroot", str(rootfs), "apt-get", "clean"])
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
        old = engine.image_id(tag) if rebuild else None
        engine.import_base(rootfs, tag)
        if old and old != engine.image_id(tag):
            engine.remove_image(old)  # the base it replaces (left untagged otherwise)
        say(f"base image {tag} made in {time.monotonic() - t0:.0f} s")
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


# ---------------------------------------------------------------------------- HTTP


class Client:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        body: bytes | None = None,
        form: dict[str, str] | None = None,
        content_type: str | None = None,
        timeout: float = 300,
    ) -> tuple[int, str, str]:
        """(status, final URL, text); redirects followed."""
        headers = {"Accept-Language": "en"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            content_type = "application/x-www-form-urlencoded"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, body, headers, method=method)
        try:
            with self.opener.open(request, timeout=timeout) as r:
                return r.status, r.url, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.url, e.read().decode("utf-8", "replace")

    def json(self, method: str, path: str, **kw: Any) -> Any:
        status, _, text = self.call(method, path, **kw)
        if status != 200:
            raise Failure(f"{method} {path}: {status} {text[:600]}")
        return json.loads(text)


def wait_ready(engine: Engine, running: Running) -> float:
    """Seconds from the container's start to /readyz 200."""
    client = Client(running.port)
    while time.monotonic() - running.started_at < READY_TIMEOUT_S:
        if running.proc is not None and running.proc.poll() is not None:
            code = running.proc.returncode
            raise Failure(f"the container exited ({code})\n{engine.logs(running)}")
        with suppress(OSError):
            status, _, _ = client.call("GET", "/readyz", timeout=5)
            if status == 200:
                return time.monotonic() - running.started_at
        time.sleep(0.1)
    raise Failure(f"/readyz not 200 after {READY_TIMEOUT_S:.0f} s\n{engine.logs(running)}")


# ---------------------------------------------------------------------------- checks


def check_image(engine: Engine, cfg: dict[str, Any], passed: dict[str, str]) -> dict[str, str]:
    """The image's configuration and contents (before any start)."""
    facts: dict[str, str] = {}
    user = (cfg.get("User") or "").strip()
    if user in ("", "root", "0") or user.startswith(("root:", "0:")):
        raise Failure(f"the image runs as root (User={user!r})")
    env = dict(e.split("=", 1) for e in cfg.get("Env") or [])
    if DATA_DIR not in (cfg.get("Volumes") or {}):
        raise Failure(f"{DATA_DIR} is not a volume of the image: {cfg.get('Volumes')}")
    if env.get("CLUSTERMATCH_DATA_DIR") != DATA_DIR:
        raise Failure(f"CLUSTERMATCH_DATA_DIR is {env.get('CLUSTERMATCH_DATA_DIR')!r}")
    leaked = [k for k in passed if k in env]
    if leaked:
        raise Failure(f"build settings kept in the image's environment: {leaked}")
    ids = engine.exec(None, ["id"], {}).strip()
    if not ids.startswith("uid=") or ids.startswith("uid=0("):
        raise Failure(f"a process in the container runs as {ids}")
    facts["user"] = ids
    # No test tools: the project's test extra, except what a runtime package requires
    # (httpx comes with huggingface-hub).
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    names = [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in extra]
    listed = json.loads(engine.exec(None, ["pip", "list", "--format=json"], {}))
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in listed}
    present = [n for n in names if n.lower() in installed]
    if present:
        shown = engine.exec(None, ["pip", "show", *present], {})
        required_by = dict(re.findall(r"^Name: (\S+)[\s\S]*?^Required-by:[ \t]*(.*)$", shown, re.M))
        tools = [n for n, by in required_by.items() if not by.strip()]
        if tools:
            raise Failure(f"test tools in the image: {tools}")
        facts["test extra present as dependencies"] = ", ".join(
            f"{n} (of {by})" for n, by in required_by.items()
        )
    facts["test tools"] = f"none of {', '.join(n for n in names if n not in present)}"
    pip_config = engine.exec(None, ["pip", "config", "list"], {})
    names = [k.removeprefix("PIP_").lower().replace("_", "-") for k in passed]
    if any(f".{n}=" in pip_config for n in names):
        raise Failure(f"the build's pip settings are in the image: {pip_config}")
    facts["torch"] = installed.get("torch", "missing")
    if "+cpu" not in facts["torch"] and facts["torch"] != "missing":
        say(f"note: torch {facts['torch']} is not marked as a CPU build")
    venv = env.get("VIRTUAL_ENV", "/opt/clustermatch")
    du = f"du -sb {venv}; du -sb {venv}/lib/python3*/site-packages/torch"  # (one du: once)
    sizes = engine.exec(None, ["sh", "-c", du], {})
    total, torch = (int(line.split()[0]) for line in sizes.splitlines()[:2])
    facts["python environment"] = f"{mb(total)} in {venv}, of which torch {mb(torch)}"
    return facts


def load_demo(client: Client, key: str) -> int:
    status, _, text = client.call(
        "POST",
        "/v1/profiles/import?format=jsonl",
        key=key,
        body=DEMO.read_bytes(),
        content_type="application/x-ndjson",
    )
    if status not in (200, 201):
        raise Failure(f"demo import: {status} {text[:600]}")
    answer = json.loads(text)
    report = answer.get("report") or {}
    if answer.get("status") != "succeeded" or report.get("rejected"):
        raise Failure(f"demo import rejected rows: {text[:600]}")
    return int(report.get("created", 0)) + int(report.get("updated", 0))


def check_match(client: Client, key: str) -> str:
    path = f"/v1/profiles/{PROBE_ID}/matches?purpose=overseas&k=5"
    if client.call("GET", path)[0] != 401:
        raise Failure(f"GET {path} without a key did not answer 401")
    answer = client.json("GET", path, key=key)
    results = answer.get("results") or []
    if not results or not results[0].get("reason"):
        raise Failure(f"no explained match for {PROBE_ID}: {json.dumps(answer)[:600]}")
    top = results[0]
    return f"{top['profile']['id']} ({top['score']:.3f}): {top['reason'][:60]}..."


def check_console(engine: Engine, running: Running, public_url: str) -> str:
    """An organizer made with `clustermatch users create` (in the container) sets a
    password through the console's form, then the profile list's meaning search answers."""
    email = f"check-{secrets.token_hex(3)}@example.org"
    out = engine.exec(
        running,
        ["clustermatch", "users", "create", "--email", email, "--role", "organizer"],
        {"CLUSTERMATCH_PUBLIC_URL": public_url},
    )
    link = re.search(r"(/console/set-password/\S+)", out)
    if not link:
        raise Failure(f"users create printed no link: {out}")
    client = Client(running.port)
    status, _, page = client.call("GET", link[1])
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if status != 200 or not token:
        raise Failure(f"set-password page: {status} {page[:400]}")
    password = secrets.token_urlsafe(18)
    status, url, page = client.call(
        "POST",
        link[1],
        form={
            "csrf_token": token[1],
            "display_name": "Container check",
            "password": password,
            "password_confirm": password,
        },
    )
    if status != 200 or "/console" not in url or "set-password" in url:
        raise Failure(f"set-password: {status} {url} {page[:400]}")
    demo = json.loads(DEMO.read_text(encoding="utf-8").splitlines()[0])
    query = urllib.parse.quote(demo["offers"][0])
    path = f"/console/profiles?q={query}&meaning=1"
    status, _, page = client.call("GET", path)
    if status != 200 or demo["name"] not in page:
        raise Failure(f"GET {path}: {status}, {demo['name']} not on the page\n{page[:600]}")
    return f"GET /console/profiles?q=…&meaning=1 200, lists {demo['name']}"


def host_start_s(venv: Path, work: Path) -> float:
    """Seconds from `clustermatch serve` of a local virtual environment (an empty data
    directory) to /readyz 200: the container's start without the container."""
    port = free_port()
    env = {**os.environ, "CLUSTERMATCH_DATA_DIR": str(work / "host-data")}
    env.pop("CLUSTERMATCH_DATABASE_URL", None)
    log = (work / "host-server.log").open("ab")
    started_at = time.monotonic()
    proc = subprocess.Popen(
        [str(venv / "bin" / "clustermatch"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    log.close()
    running = Running("host", port, started_at, proc)
    try:
        return wait_ready(Engine(), running)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


class Results(dict[str, str]):
    """The figures and findings, printed as they come and again at the end."""

    def __setitem__(self, key: str, value: str) -> None:
        say(f"{key}: {value}")
        super().__setitem__(key, value)


@contextmanager
def started(engine: Engine, env: dict[str, str]) -> Iterator[tuple[Running, float]]:
    port = free_port()
    running = engine.start(IMAGE, port, env)
    try:
        yield running, wait_ready(engine, running)
    except BaseException:
        say("server log (last lines):\n" + engine.logs(running))
        raise
    finally:
        engine.stop(running)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=("auto", "docker", "buildah"), default="auto")
    parser.add_argument(
        "--base-image",
        default=os.environ.get("BASE_IMAGE"),
        help="BASE_IMAGE for the build (default: $BASE_IMAGE, else the local base where it "
        f"exists ({LOCAL_BASE}), else the Dockerfile's python:3.11-slim)",
    )
    parser.add_argument("--make-base", action="store_true", help=f"debootstrap {LOCAL_BASE}")
    parser.add_argument("--rebuild-base", action="store_true", help="make it again")
    parser.add_argument("--mirror", default=None, help="Debian mirror for debootstrap")
    parser.add_argument(
        "--torch-index-url",
        default=None,
        help="TORCH_INDEX_URL for the build (default: empty where this machine has pip index"
        " or wheel settings, so that they decide as for scripts/install; else the Dockerfile's)",
    )
    parser.add_argument("--no-build", action="store_true", help=f"check the {IMAGE} there is")
    parser.add_argument("--keep", action="store_true", help="keep the container and its data")
    parser.add_argument(
        "--compare-venv",
        type=Path,
        default=None,
        help="also start `clustermatch serve` from this virtual environment on the host (an"
        " empty data directory) just before the container's first start: the same start"
        " timed outside the container, for comparison",
    )
    opts = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="clustermatch-check-", dir="/var/tmp"))
    engine = pick_engine(opts.engine, work)
    base = opts.base_image
    if opts.make_base or opts.rebuild_base:
        make_base(engine, LOCAL_BASE, opts.mirror or apt_mirror(), opts.rebuild_base)
        base = base or LOCAL_BASE
    elif base is None and engine.has_image(LOCAL_BASE):
        base = LOCAL_BASE
    results = Results()
    results["engine"] = engine.label
    results["base image"] = base or "python:3.11-slim"
    server = FileServer()
    passed: dict[str, str] = {}
    try:
        if not opts.no_build:
            settings = host_pip_settings()
            inputs = pip_build_inputs(settings, server, can_mount=isinstance(engine, Buildah))
            server.start()
            args = dict(inputs.args)
            torch_index = opts.torch_index_url
            if torch_index is None and any(
                k in settings for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
            ):
                torch_index = ""
            if torch_index is not None:
                args["TORCH_INDEX_URL"] = torch_index
            if base:
                args["BASE_IMAGE"] = base
            passed = {k: v for k, v in inputs.args.items() if v}
            for k, v in args.items():
                say(f"build argument {k}={masked(v)}")
            for host, inside in inputs.mounts:
                say(f"mounted for the RUN steps only: {host} -> {inside}")
            for note in inputs.notes:
                say(note)
            say(f"building {IMAGE} (the torch wheel and the dependencies: minutes)")
            t0 = time.monotonic()
            previous = engine.image_id(IMAGE)
            engine.build(IMAGE, args, inputs.mounts)
            results["build"] = f"{time.monotonic() - t0:.0f} s"
            if previous and previous != engine.image_id(IMAGE):
                engine.remove_image(previous)  # the last check's image, untagged now
        server.stop()
        cfg = engine.config(IMAGE)
        size = engine.size_bytes(IMAGE)
        engine.prepare(IMAGE)
        results["image"] = f"{IMAGE}, {mb(size)} uncompressed"
        for k, v in check_image(engine, cfg, passed).items():
            results[k] = v

        key = secrets.token_hex(24)
        port_env = {"CLUSTERMATCH_BOOTSTRAP_ADMIN_KEY": key}
        # (--compare-venv: the same start outside, before and after the container's two)
        outside = [host_start_s(opts.compare_venv, work)] if opts.compare_venv else []
        with started(engine, port_env) as (running, first):
            say(f"first start (empty volume): /readyz 200 after {first:.1f} s")
            client = Client(running.port)
            loaded = load_demo(client, key)
            results["API"] = f"{loaded} demo profiles imported; top overseas match of " + (
                check_match(client, key)
            )
            results["console"] = check_console(engine, running, f"http://127.0.0.1:{running.port}")
            files = engine.data_files(running)
            if not any(f.endswith(".db") for f in files):
                raise Failure(f"no database in the {DATA_DIR} volume: {files}")
            results["volume"] = f"{DATA_DIR} holds {', '.join(files)}"
        with started(engine, port_env) as (running, again):
            say(f"restart (same volume): /readyz 200 after {again:.1f} s")
            client = Client(running.port)
            ready = client.json("GET", "/readyz")
            check_match(client, key)
            results["restart"] = (
                f"{ready.get('profiles')} profiles, {ready.get('indexed')} indexed,"
                f" in step: {ready.get('in_step')}"
            )
        results["start to /readyz 200"] = (
            f"{first:.1f} s on an empty volume, {again:.1f} s restarted on the same volume"
            f" ({loaded} profiles)"
        )
        if opts.compare_venv:
            outside.append(host_start_s(opts.compare_venv, work))
            results["same start outside"] = (
                f"{outside[0]:.1f} s before and {outside[1]:.1f} s after the container's"
                f" (`clustermatch serve` of {opts.compare_venv}, empty data directory):"
                f" the container's first start {first / (sum(outside) / 2):.2f}x their mean"
            )
    finally:
        server.stop()
        if not opts.keep:
            engine.cleanup()
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept: {work}")
    say("PASS")
    width = max(len(k) for k in results)
    for k, v in results.items():
        print(f"  {k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as exc:
        say(f"FAIL: {exc}")
        sys.exit(1)
