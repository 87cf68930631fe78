"""Process-wide settings that must be in place before numpy, FAISS or OpenMP load.

`configure_process()` is called first thing where a process starts: the `clustermatch`
command (`service.cli.main`), the app factory (`service.app.create_app`) and the scripts
under scripts/. Importing a module of this package changes nothing.
"""

from __future__ import annotations

import os
import sys


def configure_process() -> None:
    """Thread settings for numeric libraries, and an import path free of stray scripts.

    Environment variables given explicitly win. The variables take effect only if numpy
    and the OpenMP runtime have not been loaded yet, so call this before importing them."""
    # OpenMP (FAISS, scikit-learn) spins idle threads by default, which makes HNSW builds
    # several times slower on small shared machines (2 cores). Passive waiting costs
    # nothing measurable when the machine is idle.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # numpy's OpenBLAS splits a request's matrix products (candidate similarities, filter
    # blocks) over its own threads, which then spin waiting for more work and take the CPU
    # from the requests themselves. Requests are the unit of parallelism here: one BLAS
    # thread each.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # glibc gives threads that allocate at once malloc arenas of their own (up to 8 per
    # core), and memory freed in one arena serves no other: a server's request threads
    # taking turns made each worker's memory creep up in the soak (scripts/soak.py: 10k
    # profiles, two workers, 12 minutes; +13 and +34 MiB in the thread arenas alone, 8.5
    # and 9.8 % growth in all, against 6.6 and 5.8 % with two arenas in the same run).
    # The variable reaches the processes started from this one (uvicorn's workers, which
    # read it when they start); `mallopt` limits this process's own new arenas.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    limit_malloc_arenas(os.environ["MALLOC_ARENA_MAX"])
    drop_script_dir()


def limit_malloc_arenas(value: str) -> bool:
    """At most `value` glibc malloc arenas for this process from now on (threads already
    holding an arena keep it). False where that cannot be set: not glibc, or not a
    positive number."""
    try:
        n = int(value)
    except ValueError:
        return False
    if n < 1 or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # another C library (musl has no mallopt)
        return False
    m_arena_max = -8  # glibc's malloc.h
    return bool(mallopt(ctypes.c_int(m_arena_max), ctypes.c_int(n)))


def drop_script_dir() -> None:
    """python-sat installs command scripts named models.py, rc2.py, ... into the
    environment's bin directory, which is sys.path[0] when a console script such as
    `clustermatch` runs, so `import models` would find that script instead of our package.
    Drop that entry when it holds a stray models.py and is not a source tree with our
    packages."""
    if not sys.path or not sys.path[0]:
        return
    first = sys.path[0]
    if os.path.isfile(os.path.join(first, "models.py")) and not os.path.isdir(
        os.path.join(first, "service")
    ):
        sys.path.pop(0)
