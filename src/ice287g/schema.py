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

# The marts, in the order users meet them; each is one published resource.
RESOURCES = (
    "snapshots",
    "publications",
    "agencies",
    "agreements",
    "agreement_periods",
    "applications",
    "listings",
    "counts",
)

FIELD_TYPES = {
    "varchar": "string",
    "text": "string",
    "date": "date",
    "timestamp": "datetime",
    "integer": "integer",
    "bigint": "integer",
    "boolean": "boolean",
    "double": "number",
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


def load_manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _tests_by_model(manifest: dict, project: str) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node") or ""
        if attached.startswith(f"model.{project}."):
            tests.setdefault(attached.split(".")[-1], []).append(node)
    return tests


def resource_schemas(manifest: dict, project: str = "ice287g") -> list[ResourceSchema]:
    """One ResourceSchema per mart, fields in the order the YAML lists them."""
    tests = _tests_by_model(manifest, project)
    schemas = []
    for name in RESOURCES:
        node = manifest["nodes"][f"model.{project}.{name}"]
        meta = node.get("meta") or node["config"].get("meta") or {}
        constraints: dict[str, dict] = {}
        foreign_keys = []
        for test in sorted(tests.get(name, []), key=lambda t: t["unique_id"]):
            kind = test["test_metadata"]["name"]
            kwargs = test["test_metadata"]["kwargs"]
            column = test.get("column_name") or kwargs.get("column_name")
            if not column:
                continue
            if kind == "not_null":
                constraints.setdefault(column, {})["required"] = True
            elif kind == "unique":
                constraints.setdefault(column, {})["unique"] = True
            elif kind == "accepted_values":
                constraints.setdefault(column, {})["enum"] = list(kwargs["values"])
            elif kind == "relationships":
                target = _REF.search(kwargs["to"])
                if target and target.group(1) in RESOURCES:
                    foreign_keys.append(
                        {
                            "fields": [column],
                            "reference": {
                                "resource": "" if target.group(1) == name else target.group(1),
                                "fields": [kwargs["field"]],
                            },
                        }
                    )
        fields = []
        for column in node["columns"].values():
            data_type = (column.get("data_type") or "").lower()
            if data_type not in FIELD_TYPES:
                raise ValueError(f"models/marts/_marts.yml: {name}.{column['name']} has no known data_type")
            field = {
                "name": column["name"],
                "type": FIELD_TYPES[data_type],
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
