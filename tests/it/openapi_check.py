"""Checks rats' OpenAPI document and the answers a route walk received against it.

    python3 openapi_check.py DOCUMENT.json EXCHANGES.jsonl

DOCUMENT.json is what GET /openapi.json answered; it must be a valid OpenAPI 3.1 document
(openapi-spec-validator). Each line of EXCHANGES.jsonl is one answer: {"method", "route" (the
path template), "status", "content_type", "body" (parsed JSON, or null)}. Every answer must be
documented — the route, the method, the status and the media type — and a JSON body must
validate against the documented schema (JSON Schema 2020-12, the document's own components
for references). Prints each failure and exits 1 when there is one.
"""

import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate


def resolve(document, value):
    while isinstance(value, dict) and "$ref" in value:
        node = document
        for key in value["$ref"].removeprefix("#/").split("/"):
            node = node[key]
        value = node
    return value


def check(document, exchange):
    where = f'{exchange["method"]} {exchange["route"]} → {exchange["status"]}'
    operation = document["paths"].get(exchange["route"], {}).get(exchange["method"].lower())
    if operation is None:
        return [f"{where}: the document has no such operation"]
    response = operation["responses"].get(str(exchange["status"]))
    if response is None:
        return [f"{where}: status not documented (documented: {sorted(operation['responses'])})"]
    content = resolve(document, response).get("content")
    if not content:
        return [] if exchange["body"] is None else [f"{where}: documented without a body, answered {exchange['body']!r:.200}"]
    media = (exchange["content_type"] or "").split(";")[0].strip()
    if media not in content:
        return [f"{where}: answered {media!r}, documented {sorted(content)}"]
    if not media.endswith("json"):
        return []
    schema = {"components": document["components"], "allOf": [content[media].get("schema", {})]}
    return [
        f"{where}: {'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:300]}"
        for error in Draft202012Validator(schema).iter_errors(exchange["body"])
    ]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    validate(document)
    failures = []
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            failures.extend(check(document, json.loads(line)))
    for failure in failures:
        print(failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
