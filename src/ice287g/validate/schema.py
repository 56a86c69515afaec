"""Table Schemas of the published resources, generated from the dbt models' YAML.

The dbt manifest (written by every dbt run) carries each mart's description, column
descriptions and types, primary key (``meta.primary_key``) and tests; this module turns them into
Frictionless Table Schemas, so the YAML in ``models/marts/`` stays the one source of truth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ice287g.errors import ProjectError
from ice287g.settings import project_root

MARTS_YAML = Path("models") / "marts" / "_marts.yml"


def published_tables(root: Path) -> tuple[str, ...]:
    """The published tables: the models of the marts' YAML, in its order (the order users meet
    them in the descriptor, the page and the README). A mart is published by being described there."""
    path = root / MARTS_YAML
    models = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []
    names = tuple(model["name"] for model in models)
    if not names or len(set(names)) != len(names):
        raise ProjectError(str(path), f"must describe each published table once; it names {list(names)}")
    return names


RESOURCES = published_tables(project_root())

# Each YAML data_type: its Table Schema type, and the pandas dtype DuckDB gives it (what the
# Great Expectations type check expects of the published DataFrame).
DATA_TYPES = {
    "varchar": ("string", "str"),
    "text": ("string", "str"),
    "date": ("date", "datetime64"),
    "timestamp": ("datetime", "datetime64"),
    "integer": ("integer", "int32"),
    "bigint": ("integer", "int64"),
    "boolean": ("boolean", "bool"),
    "double": ("number", "float64"),
}

_REF = re.compile(r"ref\(\s*['\"](\w+)['\"]\s*\)")


@dataclass(frozen=True)
class ResourceSchema:
    name: str
    title: str
    description: str
    schema: dict

    @property
    def primary_key(self) -> list[str]:
        return list(self.schema["primaryKey"])

    @property
    def field_types(self) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self.schema["fields"]}


def ref_target(text: str) -> str:
    """The model a test argument such as ``ref('publications')`` names."""
    found = _REF.search(text)
    if not found:
        raise ProjectError(str(MARTS_YAML), f"a test points at {text!r}, not at a ref()")
    return found.group(1)


def load_manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def data_tests_of_models(manifest: dict, project: str = "ice287g") -> dict[str, list[dict]]:
    """The generic data tests (those with test_metadata) of each model, by model name."""
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node") or ""
        if attached.startswith(f"model.{project}."):
            tests.setdefault(attached.split(".")[-1], []).append(node)
    return tests


def tested_column(test: dict) -> str | None:
    """The column a dbt data test checks, without the quotes dbt adds to a column that needs them
    (``"table"``, a SQL keyword, quoted in the YAML)."""
    column = test.get("column_name") or test["test_metadata"]["kwargs"].get("column_name")
    return column.strip('"') if column else None


def check_published(manifest: dict, project: str = "ice287g", published: tuple[str, ...] = RESOURCES) -> None:
    """Every model in models/marts/ is described in the marts' YAML (``published``), and each
    described table is a model there: a new mart is not left out of the package without a word."""
    marts = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == project and node["fqn"][1:2] == ["marts"]
    }
    if marts != set(published):
        unlisted, missing = sorted(marts - set(published)), sorted(set(published) - marts)
        raise ProjectError(
            str(MARTS_YAML),
            f"the marts and the published tables it describes differ: marts not described {unlisted}, "
            f"described tables with no mart {missing}; every mart is one published table",
        )


def model_node(manifest: dict, name: str, project: str = "ice287g") -> dict:
    node = manifest["nodes"].get(f"model.{project}.{name}")
    if node is None:
        raise ProjectError(str(MARTS_YAML), f"no model {name!r} in the dbt manifest")
    return node


def _data_type(model: str, column: dict) -> tuple[str, str]:
    data_type = (column.get("data_type") or "").lower()
    if data_type not in DATA_TYPES:
        raise ProjectError(
            str(MARTS_YAML),
            f"{model}.{column['name']} has data_type {data_type!r}, not one of {sorted(DATA_TYPES)}",
        )
    return DATA_TYPES[data_type]


def field_type(model: str, column: dict) -> str:
    """The Table Schema type of a mart column, from its YAML data_type."""
    return _data_type(model, column)[0]


def pandas_type(model: str, column: dict) -> str:
    """The pandas dtype name a mart column has when read from DuckDB, from its YAML data_type."""
    return _data_type(model, column)[1]


def resource_schemas(manifest: dict, project: str = "ice287g") -> list[ResourceSchema]:
    """One ResourceSchema per mart, fields in the order the YAML lists them."""
    check_published(manifest, project)
    tests = data_tests_of_models(manifest, project)
    schemas = []
    for name in RESOURCES:
        node = model_node(manifest, name, project)
        meta = node.get("meta") or node["config"].get("meta") or {}
        constraints: dict[str, dict] = {}
        foreign_keys = []
        for test in sorted(tests.get(name, []), key=lambda t: t["unique_id"]):
            kind = test["test_metadata"]["name"]
            kwargs = test["test_metadata"]["kwargs"]
            column = tested_column(test)
            if not column:
                continue
            if kind == "not_null":
                constraints.setdefault(column, {})["required"] = True
            elif kind == "unique":
                constraints.setdefault(column, {})["unique"] = True
            elif kind == "accepted_values":
                constraints.setdefault(column, {})["enum"] = list(kwargs["values"])
            elif kind == "at_least":
                constraints.setdefault(column, {})["minimum"] = kwargs["value"]
            elif kind == "matches_pattern":
                constraints.setdefault(column, {})["pattern"] = kwargs["pattern"]
            elif kind == "relationships" and ref_target(kwargs["to"]) in RESOURCES:
                target = ref_target(kwargs["to"])
                foreign_keys.append(
                    {
                        "fields": [column],
                        "reference": {"resource": "" if target == name else target, "fields": [kwargs["field"]]},
                    }
                )
        fields = []
        for column in node["columns"].values():
            field = {
                "name": column["name"],
                "type": field_type(name, column),
                "description": " ".join(column["description"].split()),
            }
            if field["type"] == "boolean":
                field["trueValues"], field["falseValues"] = ["true"], ["false"]
            if column["name"] in constraints:
                field["constraints"] = dict(sorted(constraints[column["name"]].items()))
            fields.append(field)
        schema = {"fields": fields, "primaryKey": list(meta["primary_key"])}
        if foreign_keys:
            schema["foreignKeys"] = sorted(foreign_keys, key=lambda fk: (fk["fields"], fk["reference"]["resource"]))
        schema["missingValues"] = [""]
        schemas.append(
            ResourceSchema(name, meta.get("title", name.title()), " ".join(node["description"].split()), schema)
        )
    return schemas
