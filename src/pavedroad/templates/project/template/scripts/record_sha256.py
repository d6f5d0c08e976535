"""Record the sha256 of the contract's model artifact in handoff.toml (`make accept`).

Run it once the artifact is validated: MOD001 then holds every later commit to that exact file,
and a retrained model fails `paved check` until someone validates it and records it again.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[1] / "handoff.toml"
ARTIFACT = re.compile(r'^artifact\s*=\s*"([^"]+)"[^\n]*\n', re.MULTILINE)
SHA256 = re.compile(r'^sha256\s*=\s*"[^"]*"[^\n]*\n', re.MULTILINE)
MARKER = re.compile(r"^# `make accept`.*\n", re.MULTILINE)


def record(contract: Path) -> str:
    """Write `sha256 = "..."` below `artifact = ...` in [model] (replacing an older one)."""
    text = contract.read_text(encoding="utf-8")
    model = re.search(r"^\[model\]\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    found = ARTIFACT.search(model.group(1)) if model else None
    if model is None or found is None:
        raise SystemExit(f'{contract}: no `artifact = "..."` line under [model]')
    artifact = contract.parent / found.group(1)
    if not artifact.is_file():
        raise SystemExit(f"{artifact} does not exist: run `make train` first")
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    section = SHA256.sub("", MARKER.sub("", model.group(1)))
    line = ARTIFACT.search(section)
    assert line is not None
    section = f'{section[: line.end()]}sha256 = "{digest}"\n{section[line.end() :]}'
    updated = text[: model.start(1)] + section + text[model.end(1) :]
    temporary = contract.with_suffix(".toml.tmp")
    temporary.write_text(updated, encoding="utf-8")
    temporary.replace(contract)
    return f"{found.group(1)}: sha256 {digest} recorded in {contract.name}"


if __name__ == "__main__":
    print(record(Path(sys.argv[1]) if len(sys.argv) > 1 else CONTRACT))
