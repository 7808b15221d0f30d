"""Fail if a wheel carries tests, data or caches, or lacks the built-in recipes."""

import sys
import zipfile

FORBIDDEN = (
    "tests/",
    "__pycache__/",
    ".pyc",
    ".pytest_cache",
    ".hypothesis",
    "/data/",
    "runs/",
    ".pt",
    "-ubyte",
)
REQUIRED = (
    "ganzoo/api.py",
    "ganzoo_plugins/recipes/infogan_dcgan.toml",
    "ganzoo_plugins/recipes/smoke/infogan_synthetic.toml",
)


def problems(wheel: str) -> list[str]:
    names = zipfile.ZipFile(wheel).namelist()
    bad = [n for n in names if any(part in n for part in FORBIDDEN)]
    missing = [r for r in REQUIRED if r not in names]
    return [f"must not ship: {n}" for n in bad] + [f"missing: {m}" for m in missing]


if __name__ == "__main__":
    found = [p for wheel in sys.argv[1:] for p in problems(wheel)]
    for line in found:
        print(f"wheel: {line}", file=sys.stderr)
    if not found:
        print(f"wheel ok: {', '.join(sys.argv[1:])}")
    sys.exit(1 if found else 0)
