"""Every package of requirements.lock as a wheel for one target Python and platform.

``make wheelhouse PYTHON_VERSION=3.12 PLATFORM=manylinux_2_28_x86_64`` runs
this. The wheels go into ``wheelhouse/py<version>-<platform>/``, from which an
offline machine (TSD) installs with ``pip install --no-index``:

1. The lock's environment markers (``; python_version == "3.12"``) are
   evaluated here for the target Python: pip evaluates them for the Python it
   runs on, not for ``--python-version``.
2. ``pip download --only-binary=:all: --python-version --platform`` fetches
   the wheel PyPI has for the target. A package PyPI has no such wheel for
   (source-only on PyPI, such as autograd-gamma) is noted and taken in step 3.
3. Those are built with ``pip wheel`` from their source. A pure-Python result
   (``py3-none-any``) serves any Python; a compiled one is built by the target
   Python itself (``python3.12`` on the PATH or in pyenv), and is then tied to
   this machine's C library as well: the manifest says so.
4. The project's own wheel (``pip wheel --no-deps .``), for the conda route.

``wheelhouse/py<version>-<platform>/MANIFEST.txt`` records the target and how
each package was obtained.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PLATFORM = "manylinux_2_28_x86_64"
NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)==")


def target_requirements(lock: Path, python_version: str, plat: str) -> list[Requirement]:
    """The pins of ``lock`` whose markers hold for the target Python on Linux.

    A marker on the patch release (``python_full_version < "3.11.5"``: Debian
    12's 3.11.2 needs an older soupsieve) holds for some 3.11 and not others,
    so both pins are taken: the wheelhouse serves every patch release.
    """
    env = {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": next((m for m in ("x86_64", "aarch64") if plat.endswith(m)), plat),
        "python_version": python_version,
        "extra": "",
    }
    patches = [f"{python_version}.{patch}" for patch in range(0, 30)]
    pins = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        if req.marker is None or any(
            req.marker.evaluate(env | {"python_full_version": full}) for full in patches
        ):
            req.marker = None
            pins.append(req)
    return pins


def _pip(python: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [python, "-m", "pip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def compatible_platforms(plat: str) -> list[str]:
    """``plat`` and every older manylinux tag it runs (pip expands only the legacy aliases).

    >>> compatible_platforms("manylinux_2_19_x86_64")[-4:]
    ['manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64']
    """
    m = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", plat)
    if not m:
        return [plat]
    newest, arch = int(m.group(1)), m.group(2)
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    return tags + [f"{name}_{arch}" for name, minor in legacy.items() if minor <= newest]


def download_binaries(
    pins: list[Requirement], dest: Path, python_version: str, plat: str
) -> list[Requirement]:
    """Download a wheel of every pin for the target; return the pins PyPI has none for.

    Two pins of one package (for different patch releases) go in separate rounds:
    pip takes one version of a package at a time.
    """
    source_only: list[Requirement] = []
    rounds: list[list[Requirement]] = []
    for req in pins:
        free = next((r for r in rounds if all(o.name != req.name for o in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(req)
    for group in rounds:
        source_only += _download_round(group, dest, python_version, plat)
    return source_only


def _download_round(
    pins: list[Requirement], dest: Path, python_version: str, plat: str
) -> list[Requirement]:
    abi = "cp" + python_version.replace(".", "")
    remaining = list(pins)
    source_only: list[Requirement] = []
    while remaining:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(str(r) for r in remaining) + "\n")
        done = _pip(
            sys.executable,
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            python_version,
            "--implementation",
            "cp",
            "--abi",
            abi,
            "--abi",
            "abi3",
            "--abi",
            "none",
            *(arg for tag in compatible_platforms(plat) for arg in ("--platform", tag)),
            "--dest",
            str(dest),
            "-r",
            f.name,
        )
        os.unlink(f.name)
        if done.returncode == 0:
            break
        missing = NOT_FOUND.search(done.stderr)
        if not missing:
            sys.exit(f"pip download failed:\n{done.stderr}")
        name = missing.group(1).lower().replace("_", "-")
        hit = [r for r in remaining if r.name.lower().replace("_", "-") == name]
        if not hit:
            sys.exit(f"pip download failed on {name}, which is not in the lock:\n{done.stderr}")
        source_only += hit
        remaining = [r for r in remaining if r not in hit]
    return source_only


def target_python(python_version: str) -> str | None:
    """An interpreter of the target version: python3.X on the PATH, else pyenv's."""
    candidates = [shutil.which(f"python{python_version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        str(p) for p in pyenv_root.glob(f"versions/{python_version}.*/bin/python{python_version}")
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == python_version:
            return candidate
    return None


def build_from_source(req: Requirement, dest: Path, python_version: str) -> str:
    """Build ``req`` into ``dest``; return how (for the manifest)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = _pip(sys.executable, "wheel", "--quiet", "--no-deps", "-w", tmp, str(req))
        if done.returncode != 0:
            sys.exit(f"building {req} failed:\n{done.stderr}")
        (wheel,) = Path(tmp).glob("*.whl")
        tags = parse_wheel_filename(wheel.name)[3]
        if all(t.abi == "none" and t.platform == "any" for t in tags):
            shutil.move(str(wheel), dest / wheel.name)
            return f"built from source: {wheel.name} (pure Python, any Python)"
    python = target_python(python_version)
    if python is None:
        sys.exit(
            f"{req} has no wheel for Python {python_version} on PyPI and compiles: building it "
            f"needs python{python_version} on this machine (pyenv, uv python or the OS's package)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        done = _pip(python, "wheel", "--quiet", "--no-deps", "-w", tmp, str(req))
        if done.returncode != 0:
            sys.exit(f"building {req} with {python} failed:\n{done.stderr}")
        (wheel,) = Path(tmp).glob("*.whl")
        shutil.move(str(wheel), dest / wheel.name)
    libc = "-".join(platform.libc_ver())
    return f"built from source with {python}: {wheel.name} (compiled here, against {libc})"


def oldest_glibc(plat: str) -> str:
    """The oldest glibc a manylinux platform tag serves (``manylinux_2_28_x86_64`` → 2.28)."""
    legacy = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}
    m = re.match(r"manylinux_(\d+)_(\d+)_", plat)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    return legacy.get(plat.split("_")[0], "?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-version", required=True, help="target Python, e.g. 3.12")
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help="pip platform tag")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--out", type=Path, default=ROOT / "wheelhouse")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"3\.\d+", args.python_version):
        parser.error(f"--python-version {args.python_version!r}: give major.minor, e.g. 3.12")

    dest = args.out / f"py{args.python_version}-{args.platform}"
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.whl"):  # a wheel of an earlier lock would linger
        old.unlink()
    pins = target_requirements(args.lock, args.python_version, args.platform)
    print(f"{dest}: {len(pins)} packages for Python {args.python_version} on {args.platform}")
    source_only = download_binaries(pins, dest, args.python_version, args.platform)
    notes = [f"{r}: wheel from PyPI" for r in pins if r not in source_only]
    for req in source_only:
        how = build_from_source(req, dest, args.python_version)
        print(f"  {req}: {how}")
        notes.append(f"{req}: {how}")
    done = _pip(sys.executable, "wheel", "--quiet", "--no-deps", "-w", str(dest), str(ROOT))
    if done.returncode != 0:
        sys.exit(f"building the project's wheel failed:\n{done.stderr}")
    (dest / "MANIFEST.txt").write_text(
        f"Wheels of {args.lock.name} for CPython {args.python_version} on {args.platform}\n"
        f"(Linux with glibc {oldest_glibc(args.platform)} or newer), plus the project's wheel.\n"
        "Install offline: pip install --no-index --find-links THIS_FOLDER -r requirements.lock\n\n"
        + "\n".join(sorted(notes, key=str.lower))
        + "\n",
        encoding="utf-8",
    )
    wheels = len(list(dest.glob("*.whl")))
    print(f"{dest}: {wheels} wheels ({len(source_only)} built from source), see MANIFEST.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
