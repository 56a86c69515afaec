"""Read the rules' tuning numbers (the dbt vars of ``dbt_project.yml``) with the reason for each.

``dbt_project.yml`` is their one home: the models read them as ``var(...)``, the validation gate
reads ``program_start_date`` from here, and the README's table of them and the numbers in its
rules are generated from them (``ice287g.publish.readme``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ice287g.errors import ProjectError


@dataclass(frozen=True)
class TuningVar:
    name: str
    value: object
    reason: str


_VAR_LINE = re.compile(r"^  (?P<name>[a-z_]+):\s*(?P<value>.+?)\s*$")


def tuning_vars(root: Path) -> list[TuningVar]:
    """The vars in file order, each with the comment block above it as its reason."""
    path = root / "dbt_project.yml"
    text = path.read_text(encoding="utf-8")
    values = (yaml.safe_load(text) or {}).get("vars") or {}
    found, comment, inside = [], [], False
    for line in text.splitlines():
        if line.startswith("vars:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if not inside:
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
        elif match := _VAR_LINE.match(line):
            name = match.group("name")
            if not comment:
                raise ProjectError(str(path), f"var {name!r} has no comment saying why it has its value")
            found.append(TuningVar(name, values[name], " ".join(comment)))
            comment = []
    if [v.name for v in found] != list(values):
        raise ProjectError(str(path), "every var must be one line, `  name: value`, under its comment")
    return found


def var(root: Path, name: str) -> object:
    for tuning in tuning_vars(root):
        if tuning.name == name:
            return tuning.value
    raise ProjectError(str(root / "dbt_project.yml"), f"no var {name!r}")
