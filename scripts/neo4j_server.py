#!/usr/bin/env python3
"""Run a real Neo4j 5.26 LTS community server on loopback for tests and local use.

Subcommands::

    start   build the launcher once (cached), start Neo4j in the background, wait until
            Bolt answers and the password works; prints the env lines on stdout
    stop    stop the server (SIGTERM, then SIGKILL after 30 s) and delete its data
    status  exit 0 and print the Bolt URI if the server runs and answers, else exit 1
    env     print the shell-sourceable env file (exit 1 if not running)

Neo4j comes from Maven Central (``org.neo4j:neo4j``, see ``scripts/neo4j/pom.xml``) and is
resolved with the machine's ``mvn`` into ``~/.m2``. The launcher classes and the runtime
classpath are built once into ``${NEEDGRAPH_CACHE:-~/.cache/needgraph}/neo4j-5.26/`` and
reused until ``pom.xml`` or the launcher source changes.

State lives in ``${NEEDGRAPH_NEO4J_STATE:-<repo>/.neo4j}``: ``pid``, ``env`` (``NEO4J_URI``,
``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``), ``server.log``, ``home`` (path
of the temporary database directory), ``ready`` (written by the launcher once the password is
set), ``lock`` and a ``.gitignore`` of ``*``. Run ``eval "$(python3 scripts/neo4j_server.py
start)"`` or ``. .neo4j/env`` to get the variables into a shell.

Only the standard library is used, so this runs before any project dependency is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent
PROJECT_DIR = SCRIPT_DIR / "neo4j"
POM = PROJECT_DIR / "pom.xml"
LAUNCHER_CLASS = "dev.needgraph.neo4j.Launcher"
BUILD_SCHEMA = "1"  # bump to force a rebuild of every cache
APPROX_DOWNLOAD_MB = 160
MIN_JAVA = 17
INSTALL_HINT = "apt-get install openjdk-17-jdk-headless maven"

USER = "neo4j"
DATABASE = "neo4j"
HOST = "127.0.0.1"
TEMP_PREFIX = "needgraph-neo4j-"
DEFAULT_TIMEOUT_S = 180.0
STOP_WAIT_S = 30.0
KILL_WAIT_S = 10.0
PORT_ATTEMPTS = 3
LOG_TAIL_LINES = 40

JVM_OPTS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
]

BOLT_MAGIC = b"\x60\x60\xb0\x17"
BOLT_V44 = b"\x00\x00\x04\x04"
BOLT_PROPOSALS = BOLT_V44 + b"\x00\x00\x00\x00" * 3
BOLT_SUCCESS = 0x70
BOLT_FAILURE = 0x7F


class ServerError(Exception):
    """A failure with a message meant for the user."""


class BoltError(Exception):
    """Bolt did not answer, or answered with a failure."""


# --------------------------------------------------------------------------- output


def progress(message: str) -> None:
    """Print a progress line on stderr."""
    print(f"[neo4j_server] {message}", file=sys.stderr, flush=True)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of a text file (empty string if it is missing)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Directory outside the repo that holds the built launcher and its classpath."""
    base = os.environ.get("NEEDGRAPH_CACHE") or str(Path.home() / ".cache" / "needgraph")
    return Path(base) / "neo4j-5.26"


def state_dir() -> Path:
    """Directory with pid, env, server.log, home and ready of the running server."""
    return Path(os.environ.get("NEEDGRAPH_NEO4J_STATE") or REPO_ROOT / ".neo4j")


def neo4j_version() -> str:
    """Neo4j version pinned in pom.xml."""
    match = re.search(r"<neo4j\.version>([^<]+)</neo4j\.version>", POM.read_text("utf-8"))
    return match.group(1).strip() if match else "5.26.x"


# --------------------------------------------------------------------------- toolchain


def find_java() -> str:
    """Path of the java executable ($JAVA_HOME first, then PATH)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise ServerError(f"java not found on PATH; Java {MIN_JAVA}+ is needed: {INSTALL_HINT}")
    return java


def java_major(java: str) -> int:
    """Major version of ``java`` (8 for 1.8.x, 17 for 17.0.x)."""
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise ServerError(f"cannot tell the version of {java}: {result.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> str:
    """Return a usable java (>= 17), or raise with the fix."""
    java = find_java()
    major = java_major(java)
    if major < MIN_JAVA:
        raise ServerError(
            f"{java} is Java {major}; Neo4j 5.26 needs Java {MIN_JAVA} or 21: {INSTALL_HINT}"
            " (or point JAVA_HOME at a newer JDK)"
        )
    return java


def find_mvn() -> str:
    """Path of mvn, or raise with the fix."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError(f"mvn (Apache Maven) not found on PATH: {INSTALL_HINT}")
    return mvn


# --------------------------------------------------------------------------- build


def source_hash() -> str:
    """Hash of pom.xml and the launcher sources; a change triggers a rebuild."""
    digest = hashlib.sha256(f"schema={BUILD_SCHEMA}\n".encode())
    files = [POM, *sorted((PROJECT_DIR / "src").rglob("*.java"))]
    for path in files:
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def classpath(build_dir: Path) -> str:
    """Java classpath of the launcher classes plus every runtime jar."""
    return os.pathsep.join([str(build_dir / "classes"), str(build_dir / "lib" / "*")])


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (serialises concurrent builds and starts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_maven(mvn: str, build_dir: Path, log_path: Path) -> None:
    """Compile the launcher and copy its runtime dependencies into ``build_dir``."""
    command = [
        mvn,
        "-B",
        "--no-transfer-progress",
        "-f",
        str(POM),
        f"-Dneedgraph.build.dir={build_dir}",
        "compile",
    ]
    with log_path.open("w") as log:
        result = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False
        )
    if result.returncode != 0:
        tail = log_tail(log_path)
        hint = "is Maven Central reachable?"
        if "No compiler is provided" in tail:
            hint = f"Maven found a JRE, not a JDK: {INSTALL_HINT} (or set JAVA_HOME to a JDK)"
        raise ServerError(
            f"Maven build failed (exit {result.returncode}); {hint}\n"
            f"--- last lines of {log_path} ---\n{tail}"
        )


def ensure_built(mvn: str) -> Path:
    """Build the launcher into the cache unless the stamp says it is current."""
    cache = cache_dir()
    build_dir, stamp = cache / "build", cache / "stamp"
    wanted = source_hash()
    with file_lock(cache / "build.lock"):
        if stamp.is_file() and stamp.read_text().strip() == wanted and build_dir.is_dir():
            return build_dir
        progress(
            f"building the launcher into {cache}; resolving Neo4j {neo4j_version()} from Maven "
            f"Central into ~/.m2 (first run only, ~{APPROX_DOWNLOAD_MB} MB) ..."
        )
        started = time.monotonic()
        staging = cache / "build.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        run_maven(mvn, staging, cache / "build.log")
        shutil.rmtree(build_dir, ignore_errors=True)
        staging.rename(build_dir)
        stamp.write_text(wanted + "\n")
        progress(f"build done in {time.monotonic() - started:.0f} s")
    return build_dir


# --------------------------------------------------------------------------- bolt


def pack_string(value: str) -> bytes:
    """PackStream encoding of a string."""
    data = value.encode("utf-8")
    size = len(data)
    if size < 0x10:
        return bytes([0x80 | size]) + data
    if size < 0x100:
        return b"\xd0" + bytes([size]) + data
    return b"\xd1" + struct.pack(">H", size) + data


def pack_str_map(values: dict[str, str]) -> bytes:
    """PackStream encoding of a small (< 16 entries) string-to-string map."""
    body = b"".join(pack_string(k) + pack_string(v) for k, v in values.items())
    return bytes([0xA0 | len(values)]) + body


def chunk(message: bytes) -> bytes:
    """Frame one Bolt message as a single chunk plus the end marker."""
    return struct.pack(">H", len(message)) + message + b"\x00\x00"


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly ``size`` bytes or raise BoltError."""
    data = b""
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            raise BoltError("connection closed by server")
        data += part
    return data


def recv_message(sock: socket.socket) -> bytes:
    """Read one chunked Bolt message."""
    message = b""
    while True:
        (size,) = struct.unpack(">H", recv_exact(sock, 2))
        if size == 0:
            if message:
                return message
            continue  # a NOOP chunk
        message += recv_exact(sock, size)


def bolt_handshake(sock: socket.socket) -> bytes:
    """Do the Bolt handshake proposing 4.4; return the agreed version (4 bytes)."""
    sock.sendall(BOLT_MAGIC + BOLT_PROPOSALS)
    agreed = recv_exact(sock, 4)
    if agreed == b"\x00\x00\x00\x00":
        raise BoltError("server accepted none of the proposed Bolt versions")
    return agreed


def bolt_login(sock: socket.socket, user: str, password: str) -> None:
    """Send a Bolt 4.4 HELLO with basic auth; raise BoltError unless it succeeds."""
    hello = pack_str_map(
        {
            "user_agent": "needgraph-neo4j-server/1",
            "scheme": "basic",
            "principal": user,
            "credentials": password,
        }
    )
    sock.sendall(chunk(b"\xb1\x01" + hello))
    reply = recv_message(sock)
    if len(reply) < 2 or reply[1] != BOLT_SUCCESS:
        kind = "FAILURE" if len(reply) > 1 and reply[1] == BOLT_FAILURE else "unexpected reply"
        raise BoltError(f"HELLO rejected ({kind})")
    sock.sendall(chunk(b"\xb0\x02"))  # GOODBYE


def bolt_check(port: int, user: str | None = None, password: str | None = None) -> None:
    """Handshake with Bolt on ``port``; with credentials also log in. Raises BoltError."""
    try:
        with socket.create_connection((HOST, port), timeout=5.0) as sock:
            bolt_handshake(sock)
            if user is not None and password is not None:
                bolt_login(sock, user, password)
    except OSError as exc:
        raise BoltError(str(exc)) from exc


def free_port() -> int:
    """A currently free TCP port on loopback (bind to port 0 and release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- process / state


def pid_running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (e.g. macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def is_launcher(pid: int) -> bool:
    """True if ``pid`` runs our launcher (guards against recycled pids)."""
    if not pid_running(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: cannot tell, assume it is ours
    return LAUNCHER_CLASS.encode() in cmdline


def read_pid(state: Path) -> int | None:
    """The pid recorded in the state dir, if any."""
    try:
        return int((state / "pid").read_text().strip())
    except (OSError, ValueError):
        return None


def read_env(state: Path) -> dict[str, str]:
    """Parse the ``export KEY=VALUE`` lines of the env file."""
    values: dict[str, str] = {}
    try:
        lines = (state / "env").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        if line.startswith("export ") and "=" in line:
            key, _, raw = line[len("export ") :].partition("=")
            values[key.strip()] = shlex.split(raw)[0] if raw.strip() else ""
    return values


def port_of(uri: str) -> int | None:
    """Port of a ``bolt://host:port`` URI."""
    match = re.fullmatch(r"bolt://[^:/]+:(\d+)", uri)
    return int(match.group(1)) if match else None


def answering(state: Path) -> bool:
    """True if the server of ``state`` runs, speaks Bolt and accepts its password."""
    pid = read_pid(state)
    env = read_env(state)
    port = port_of(env.get("NEO4J_URI", ""))
    if pid is None or port is None or not is_launcher(pid):
        return False
    try:
        bolt_check(port, env.get("NEO4J_USERNAME"), env.get("NEO4J_PASSWORD"))
    except BoltError:
        return False
    return True


def write_env(state: Path, port: int, password: str) -> str:
    """Write the env file (mode 0600) and return its text."""
    text = "".join(
        f"export {key}={shlex.quote(value)}\n"
        for key, value in (
            ("NEO4J_URI", f"bolt://{HOST}:{port}"),
            ("NEO4J_USERNAME", USER),
            ("NEO4J_PASSWORD", password),
            ("NEO4J_DATABASE", DATABASE),
        )
    )
    path = state / "env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return text


def prepare_state(state: Path) -> None:
    """Create the state dir; a ``*`` .gitignore keeps it out of git."""
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def remove_home(state: Path) -> None:
    """Delete the temporary database dir recorded in ``state/home`` (only our temp dirs)."""
    try:
        home = Path((state / "home").read_text().strip())
    except OSError:
        return
    if home.is_absolute() and home.name.startswith(TEMP_PREFIX):
        shutil.rmtree(home, ignore_errors=True)
    (state / "home").unlink(missing_ok=True)


def clear_state(state: Path) -> None:
    """Remove everything but server.log from the state dir."""
    remove_home(state)
    for name in ("pid", "env", "ready", "ready.tmp"):
        (state / name).unlink(missing_ok=True)


def wait_gone(pid: int, timeout: float) -> bool:
    """Poll until ``pid`` has exited; True if it did within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_running(pid):
            return True
        time.sleep(0.2)
    return not pid_running(pid)


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``pid`` (falls back to the pid)."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def terminate(pid: int, wait_s: float = STOP_WAIT_S) -> None:
    """SIGTERM the launcher's process group, SIGKILL it if it is not gone in ``wait_s``."""
    signal_group(pid, signal.SIGTERM)
    if wait_gone(pid, wait_s):
        return
    progress(f"still running after {wait_s:.0f} s, sending SIGKILL")
    signal_group(pid, signal.SIGKILL)
    if not wait_gone(pid, KILL_WAIT_S):
        raise ServerError(f"process {pid} did not exit after SIGKILL")


# --------------------------------------------------------------------------- start


def launch(
    java: str, build_dir: Path, state: Path, port: int, password: str, heap: str, pagecache_mb: int
) -> subprocess.Popen[bytes]:
    """Start the JVM in its own session with output to state/server.log."""
    home = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    (state / "home").write_text(f"{home}\n")
    env = dict(os.environ)
    env.update(
        NEEDGRAPH_NEO4J_HOME=str(home),
        NEEDGRAPH_NEO4J_PORT=str(port),
        NEEDGRAPH_NEO4J_PASSWORD=password,
        NEEDGRAPH_NEO4J_READY_FILE=str(state / "ready"),
        NEEDGRAPH_NEO4J_PAGECACHE_MB=str(pagecache_mb),
    )
    command = [
        java,
        f"-Xmx{heap}",
        *JVM_OPTS,
        "-cp",
        classpath(build_dir),
        LAUNCHER_CLASS,
    ]
    with (state / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (state / "pid").write_text(f"{proc.pid}\n")
    return proc


def wait_ready(
    proc: subprocess.Popen[bytes], state: Path, port: int, password: str, timeout: float
) -> None:
    """Wait for the ready file, a Bolt handshake and a successful login."""
    deadline = time.monotonic() + timeout
    last_error = "launcher has not signalled readiness yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"Neo4j exited with code {proc.returncode} during start-up")
        if (state / "ready").is_file():
            try:
                bolt_check(port, USER, password)
                return
            except BoltError as exc:
                last_error = f"Bolt check failed: {exc}"
        time.sleep(0.5)
    raise ServerError(f"Neo4j did not become ready within {timeout:.0f} s ({last_error})")


def start_once(java: str, build_dir: Path, state: Path, args: argparse.Namespace) -> str:
    """One start attempt on a fresh port; returns the env text or raises ServerError."""
    port, password = free_port(), secrets.token_urlsafe(24)
    log_offset = (state / "server.log").stat().st_size if (state / "server.log").exists() else 0
    progress(f"starting Neo4j on bolt://{HOST}:{port} (log: {state / 'server.log'})")
    proc = launch(java, build_dir, state, port, password, args.heap, args.pagecache_mb)
    try:
        wait_ready(proc, state, port, password, args.timeout)
    except (ServerError, KeyboardInterrupt) as exc:
        abort_start(proc, state)
        if isinstance(exc, KeyboardInterrupt):
            raise
        log = (state / "server.log").read_bytes()[log_offset:].decode("utf-8", "replace")
        tail = "\n".join(log.splitlines()[-LOG_TAIL_LINES:])
        raise ServerError(f"{exc}\n--- last lines of {state / 'server.log'} ---\n{tail}") from exc
    return write_env(state, port, password)


def abort_start(proc: subprocess.Popen[bytes], state: Path) -> None:
    """Kill a launcher that failed to become ready and delete its data."""
    if proc.poll() is None:
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=KILL_WAIT_S)
    clear_state(state)


def cmd_start(args: argparse.Namespace) -> int:
    """Start the server unless one from the same state dir already answers."""
    state = state_dir()
    with file_lock(state / "lock"):
        return start_server(state, args)


def start_server(state: Path, args: argparse.Namespace) -> int:
    """Body of ``start``; the caller holds the state dir lock."""
    if answering(state):
        progress(f"already running: {read_env(state)['NEO4J_URI']} (state: {state})")
        print((state / "env").read_text(), end="")
        return 0
    stop_server(state, quiet=True)  # clean up a stale or half-dead previous run
    java, mvn = check_java(), find_mvn()
    build_dir = ensure_built(mvn)
    prepare_state(state)
    started = time.monotonic()
    env_text = start_with_retries(java, build_dir, state, args)
    progress(f"ready in {time.monotonic() - started:.1f} s; env file: {state / 'env'}")
    print(env_text, end="")
    return 0


def start_with_retries(java: str, build_dir: Path, state: Path, args: argparse.Namespace) -> str:
    """Start, retrying on a new port if another process grabbed the chosen one first."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return start_once(java, build_dir, state, args)
        except ServerError as exc:
            if attempt == PORT_ATTEMPTS or "Address already in use" not in str(exc):
                raise
            progress("port was taken in the meantime, retrying with another one")
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- stop / status / env


def stop_server(state: Path, quiet: bool = False) -> None:
    """Stop the server of ``state`` if it runs and remove its data; idempotent."""
    pid = read_pid(state)
    if pid is not None and is_launcher(pid):
        if not quiet:
            progress(f"stopping Neo4j (pid {pid})")
        terminate(pid)
    elif not quiet:
        progress("no Neo4j server running")
    clear_state(state)


def cmd_stop(args: argparse.Namespace) -> int:
    """Stop the server; exit 0 also when nothing runs."""
    state = state_dir()
    if not state.is_dir():
        progress("no Neo4j server running")
        return 0
    with file_lock(state / "lock"):
        stop_server(state)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print the URI and exit 0 if the server answers, else exit 1."""
    state = state_dir()
    if not answering(state):
        progress("not running")
        return 1
    print(read_env(state)["NEO4J_URI"])
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Print the env file if the server runs, else exit 1."""
    state = state_dir()
    if not answering(state):
        progress("not running; start it with: python3 scripts/neo4j_server.py start")
        return 1
    print((state / "env").read_text(), end="")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line interface."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start Neo4j (no-op if already running)")
    start.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds to wait for readiness (default %(default)s)",
    )
    start.add_argument("--heap", default="1g", help="JVM max heap, -Xmx (default %(default)s)")
    start.add_argument(
        "--pagecache-mb", type=int, default=256, help="page cache in MiB (default %(default)s)"
    )
    start.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop Neo4j and delete its data").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="exit 0 if running and answering").set_defaults(func=cmd_status)
    sub.add_parser("env", help="print the env file").set_defaults(func=cmd_env)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    try:
        return int(args.func(args))
    except ServerError as exc:
        print(f"[neo4j_server] error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
