"""The server's peak memory for ``drift_tables.py``, from /proc (Linux only).

The peak is the process's VmHWM, reset to its VmRSS of the moment by writing 5 to
/proc/PID/clear_refs just before a request (Linux 4.0 and later; the process must be ours):
its growth over that RSS is what the request itself needed at its peak.
"""

from pathlib import Path

from _harness import Server


def status(pid: int, key: str) -> int:
    """A /proc/PID/status figure (``VmRSS``, ``VmHWM``), in bytes; raises RuntimeError where
    the process has no such line."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def reset_peak(pid: int) -> int:
    """Reset the process's VmHWM to its VmRSS now, and return that VmRSS in bytes."""
    resident = status(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return resident


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as children:
            for child in map(int, children.read().split()):
                found += [child, *_descendants(child)]
    return found


def serving_pid(pid: int, port: int) -> int:
    """The process that accepts on ``port``: ``pid`` itself (``serve`` with one worker runs
    uvicorn in its own process), or, if ``pid`` is a wrapper or a supervisor, the deepest
    of its descendants holding the listening socket; ``pid`` where none holds it (an IPv6
    socket, say: only /proc/net/tcp is read)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for candidate in [pid, *_descendants(pid)]:
        fds = Path(f"/proc/{candidate}/fd")
        if any(str(fd.readlink()) in inodes for fd in fds.iterdir() if fd.is_symlink()):
            holders.append(candidate)
    return holders[-1] if holders else pid


def server_pid(server: Server) -> int:
    """The process of ``server`` whose memory a request grows (see :func:`serving_pid`)."""
    return serving_pid(server.process.pid, int(server.url.rsplit(":", 1)[1]))
