"""Shared conventions of ipsecd's Python test harness.

Every test is a program: exit 0 passes, 1 fails, 77 skips (meson's
convention) after printing one line that says why.  Paths come from the
environment that meson's test() sets (see tests/meson.build), so a test also
runs by hand from the source tree.
"""
import os
import shutil
import sys

SKIP = 77


def skip(reason):
    """Skip the running test with a one-line reason."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def source_root():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("IPSECD_SOURCE_ROOT", os.path.dirname(os.path.dirname(here)))


def build_root():
    return os.environ.get("IPSECD_BUILD_ROOT", os.path.join(source_root(), "build"))


def cache_dir(name=None):
    """Where scripts/setup-deps unpacked private .debs (kernel, libreswan)."""
    base = os.environ.get("IPSECD_CACHE", os.path.join(source_root(), ".cache"))
    return os.path.join(base, name) if name else base


def require_root():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, XFRM)")


def require_tools(*names):
    for name in names:
        if shutil.which(name) is None:
            skip(f"{name} is not installed (scripts/setup-deps installs it)")


def require_cache(name):
    """The unpacked .deb NAME from scripts/setup-deps, or skip."""
    path = os.path.join(cache_dir(name), "root")
    if not os.path.isdir(path):
        skip(f"{path} is missing: run scripts/setup-deps")
    return path
