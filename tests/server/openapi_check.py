"""Checks a response the tests got against jupyter_mlops/server/openapi.yaml.

openapi-schema-validator (python-openapi, which also maintains openapi-spec-validator) validates a
body against the document's schemas with their `$ref`s resolved inside the same document.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:jupyter-mlops:openapi"


@cache
def openapi_document() -> dict[str, Any]:
    text = files("jupyter_mlops.server").joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _operation(method: str, path: str) -> dict[str, Any]:
    """The operation whose path template matches `path` (relative to `mlops/api`)."""
    path = "/" + path.strip("/")
    for template, item in openapi_document()["paths"].items():
        pattern = "^" + re.sub(r"\{[^/}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            operation: dict[str, Any] = item[method.lower()]
            return operation
    raise AssertionError(f"{method} {path} is not in openapi.yaml: document it")


def check_response(method: str, path: str, status: int, body: bytes, content_type: str) -> None:
    """Fail unless `status` is documented for the call and `body` matches its schema."""
    operation = _operation(method, path.split("?")[0])
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered {status}, not documented in openapi.yaml"
    if "$ref" in response:
        response = openapi_document()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    media = response["content"]
    if "application/json" not in media:
        return  # a stream or a file: its bytes have no schema
    assert content_type.startswith("application/json"), content_type
    schema = media["application/json"]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource(contents=openapi_document(), specification=DRAFT202012)
    )
    validator = OAS31Validator({"$ref": DOC_URI + _pointer(schema)}, registry=registry)
    validator.validate(json.loads(body))


def _pointer(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"])
    # An inline schema: find where it sits in the document.
    for template, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if content is not None and content["schema"] is schema:
                    escaped = template.replace("~", "~0").replace("/", "~1")
                    return f"#/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
    raise AssertionError("schema not found in the document")
