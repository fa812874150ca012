"""A container without a container engine: what Docker gives a compose service with
``read_only: true``, ``tmpfs``, ``volumes`` and ``user``, built from Linux namespaces.

``Container(...).argv(command)`` is a command line that runs ``command`` in a mount
namespace of its own (``unshare --mount``; root is needed to build it), chrooted into a
root file system, from one of two ``Image``s:

- the image built from the Dockerfile (``Image.built``: tools/image/build, mounted with
  buildah), its root bind-mounted read-only, with the ENV, CMD and HEALTHCHECK the build
  recorded;
- the checkout made to look like it (``Image.checkout``), for machines without buildah: a
  tmpfs skeleton remounted read-only, with this machine's ``/usr`` and ``/etc``, the Python
  installation and the project with its venv (``/opt/venv`` too, as in the image)
  bind-mounted read-only; the image's user ``app`` (uid and gid 10001) in ``/etc/passwd``
  and ``/etc/group``; its home ``/home/app`` and ``/var/lib/divergence`` owned by it; the
  ENV, CMD and HEALTHCHECK read from the Dockerfile's text;

and in both:

- writable only where a compose file says so: a tmpfs for each ``tmpfs`` entry, a host
  folder for each volume; plus what Docker always adds: ``/dev/shm`` (a tmpfs), the device
  nodes, ``/proc``, and ``/sys`` read-only;
- the command as uid and gid 10001, no supplementary groups, no capabilities (bounding set
  emptied) and ``no_new_privs``, with only the given environment, like ``docker run``.

The process is the command itself (``unshare`` and ``chroot`` exec it), so signals reach
it, and its mounts disappear with it.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

UID = GID = 10001
HOME = "/home/app"
DATA_DIR = "/var/lib/divergence"
# The Python that the venv runs on (a pyenv build here; /usr/local in the image).
PYTHON_HOME = Path(sys.base_prefix).resolve()
# PATH of the python image, with the image's venv first (the Dockerfile's ENV).
PATH = "/opt/venv/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def namespaces_refused() -> str | None:
    """Why the sandbox cannot be built here, or None when it can."""
    if os.geteuid() != 0:
        return "building the read-only sandbox needs root (mount namespaces, chroot)"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
         "mount -t tmpfs probe /mnt && mount -o remount,ro /mnt"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"the kernel refuses a mount namespace here: {probe.stderr.strip()!r}"
    return None


def dockerfile_env() -> dict[str, str]:
    """The ENV of the final image stage (the Dockerfile's last ENV block)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env_line = [line for line in text.splitlines() if line.startswith("ENV ")][-1]
    return dict(pair.split("=", 1) for pair in shlex.split(env_line[4:]))


@dataclass(frozen=True)
class Image:
    """What containers are made from: a root file system (None: the checkout's stand-in) and
    the configuration a container starts with."""

    name: str
    root: Path | None
    environment: dict[str, str]
    command: list[str]
    healthcheck: list[str]  # the HEALTHCHECK's exec form, without "CMD"

    @classmethod
    def checkout(cls) -> "Image":
        """The checkout as the image: ENV, CMD and HEALTHCHECK read from the Dockerfile."""
        text = (ROOT / "Dockerfile").read_text()
        command = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
        health = re.search(r"HEALTHCHECK .*?CMD (\[.*\])", text.replace("\\\n", " "))
        assert command is not None and health is not None
        environment = {**dockerfile_env(), "PATH": PATH}
        return cls("checkout", None, environment, json.loads(command[1]), json.loads(health[1]))

    @classmethod
    def built(cls, name: str, root: Path) -> "Image":
        """An image built by buildah, mounted at ``root``: its configuration as recorded."""
        inspected = subprocess.run(
            ["buildah", "inspect", "--type", "image", name],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        config = json.loads(inspected.stdout)["Docker"]["config"]
        kind, *health = config["Healthcheck"]["Test"]
        assert kind == "CMD", config["Healthcheck"]
        environment = dict(pair.split("=", 1) for pair in config["Env"])
        return cls(name, root, environment, config["Cmd"], health)


@dataclass
class Container:
    """One service's container from ``image``: ``root`` is an empty host folder to build it
    on; ``environment`` is added to the image's."""

    root: Path
    image: Image
    environment: dict[str, str]
    volumes: dict[str, Path] = field(default_factory=dict)  # container path: host folder
    read_only_volumes: dict[str, Path] = field(default_factory=dict)
    tmpfs: tuple[str, ...] = ("/tmp",)

    def argv(self, command: list[str]) -> list[str]:
        """``command`` inside the container; arguments appended to the list reach it."""
        self.root.mkdir(parents=True, exist_ok=True)
        r = shlex.quote(str(self.root))
        q = shlex.quote
        lines = ["set -eu"]

        def bind(source: Path | str, target: str, read_only: bool) -> None:
            kind = "-d" if Path(source).is_dir() else "-f"
            at = f"{r}{q(target)}"
            make = f"mkdir -p {at}" if kind == "-d" else f"[ -e {at} ] || touch {at}"
            if kind == "-f":
                lines.append(f"mkdir -p {r}{q(str(Path(target).parent))}")
            lines.append(make)
            lines.append(f"mount --bind {q(str(source))} {r}{q(target)}")
            if read_only:
                lines.append(f"mount -o remount,bind,ro,nosuid {r}{q(target)}")

        if self.image.root is not None:
            lines.append(f"mount --bind {q(str(self.image.root))} {r}")
        else:
            lines.append(f"mount -t tmpfs -o mode=0755 image {r}")
        # The compose file's tmpfs first: a project checked out under /tmp stays visible.
        for path in self.tmpfs:
            lines.append(f"mkdir -p {r}{q(path)}")
            lines.append(f"mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {r}{q(path)}")
        if self.image.root is None:
            self._checkout_as_image(lines, bind)
        # What Docker always gives a container.
        lines.append(f"mkdir -p {r}/dev {r}/proc {r}/sys")
        lines.append(f"mount -t tmpfs -o mode=0755,nosuid dev {r}/dev")
        lines.append(f"mkdir {r}/dev/shm")
        for device in DEVICES:
            bind(f"/dev/{device}", f"/dev/{device}", read_only=False)
        lines.append(f"ln -s /proc/self/fd {r}/dev/fd")
        lines.append(f"mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m shm {r}/dev/shm")
        lines.append(f"mount -t proc -o nosuid,nodev,noexec proc {r}/proc")
        lines.append(f"mount -t sysfs -o ro,nosuid,nodev,noexec sysfs {r}/sys")
        # The compose file's volumes, the only writable places besides its tmpfs.
        for path, host in self.volumes.items():
            bind(host, path, read_only=False)
        for path, host in self.read_only_volumes.items():
            bind(host, path, read_only=True)
        # A bind mount is made read-only by itself ("bind"): the image's own file system, which
        # buildah's other mounts share, stays as it is.
        lines.append(f"mount -o remount,{'bind,' if self.image.root else ''}ro {r}")
        environment = {"HOME": HOME, "HOSTNAME": "container", **self.image.environment}
        environment.update(self.environment)
        # Old OpenBLAS builds crash without these on some processors (set by the machine).
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ and name not in environment:
                environment[name] = os.environ[name]
        user = [
            "/usr/bin/setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        ]  # fmt: skip
        run = [
            "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in environment.items()),
            "/bin/sh", "-c", 'cd "$0" && exec "$@"', HOME,
        ]  # fmt: skip
        lines.append(f'exec chroot {r} {shlex.join(user + run)} "$@"')
        script = "\n".join(lines)
        return [
            "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", script, "container", *command,
        ]  # fmt: skip

    def _checkout_as_image(
        self, lines: list[str], bind: Callable[[Path | str, str, bool], None]
    ) -> None:
        """This machine's system, Python and the project with its venv, read-only, with the
        image's user and its folders: what the Dockerfile would have made."""
        r = shlex.quote(str(self.root))
        etc = self.root.parent / f"{self.root.name}-etc"
        etc.mkdir(exist_ok=True)
        (etc / "passwd").write_text(
            Path("/etc/passwd").read_text() + f"app:x:{UID}:{GID}::{HOME}:/bin/sh\n"
        )
        (etc / "group").write_text(Path("/etc/group").read_text() + f"app:x:{GID}:\n")
        for system in ("/usr", "/etc"):
            bind(system, system, True)
        for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("sbin", "usr/sbin")):
            lines.append(f"ln -s {target} {r}/{link}")
        if Path("/lib64").exists():
            lines.append(f"ln -s usr/lib64 {r}/lib64")
        bind(PYTHON_HOME, str(PYTHON_HOME), True)
        bind(ROOT, str(ROOT), True)
        bind(ROOT / ".venv", "/opt/venv", True)
        bind(etc / "passwd", "/etc/passwd", True)
        bind(etc / "group", "/etc/group", True)
        for folder in (HOME, DATA_DIR):
            lines.append(f"mkdir -p {r}{folder} && chown {UID}:{GID} {r}{folder}")
