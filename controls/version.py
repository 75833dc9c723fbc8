"""The catalogue's version: recorded in every run and report, so a later version never re-judges a past year silently.

`catalogue/_catalogue.yaml` declares the version and the digest of the files that judge: the control files and
the evaluation code under controls/. A site that changed either gets "VERSION+modified" and the digest it ran,
so a report judged by a changed catalogue says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from auditpack.yamlfile import Problem, YamlFileError, locate, read_yaml

CONTROLS_DIR = Path(__file__).parent
VERSION_FILE = CONTROLS_DIR / "catalogue" / "_catalogue.yaml"


@dataclass(frozen=True)
class CatalogueVersion:
    declared: str
    digest: str  # of the files as they are here
    declared_digest: str

    @property
    def modified(self) -> bool:
        return self.digest != self.declared_digest

    @property
    def label(self) -> str:
        return f"{self.declared}+modified" if self.modified else self.declared

    def record(self) -> dict[str, object]:
        """What a run manifest and a report document hold."""
        return {"version": self.label, "digest": self.digest, "modified": self.modified}


def judging_files(root: Path = CONTROLS_DIR) -> list[Path]:
    """The control files and the evaluation code, in a fixed order; the version file itself excluded."""
    files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    files += [p for p in (root / "catalogue").glob("*.yaml") if p.name != VERSION_FILE.name]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def digest_of(root: Path = CONTROLS_DIR) -> str:
    h = hashlib.sha256()
    for path in judging_files(root):
        name = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        h.update(b"%d:%s%d:" % (len(name), name, len(data)))  # lengths first: no two file sets hash alike
        h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=1)
def catalogue_version() -> CatalogueVersion:
    doc, file = read_yaml(VERSION_FILE)
    problems = [
        Problem(file, locate(doc, (key,)), key, "must be a non-empty string")
        for key in ("version", "digest")
        if not isinstance(doc, dict) or not isinstance(doc.get(key), str) or not doc.get(key)
    ]
    if problems:
        raise YamlFileError(problems)
    return CatalogueVersion(declared=doc["version"], digest=digest_of(), declared_digest=doc["digest"])
