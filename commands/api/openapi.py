"""The API described as OpenAPI 3.1, served at `/api/v1/openapi.json` (a test checks it names every route)."""

from __future__ import annotations

from typing import Any

_AMOUNT = {"type": ["integer", "null"], "description": "Whole units of the measure's currency."}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["unauthorized", "forbidden", "not_found", "invalid"]},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
_MONTH = {
    "type": "object",
    "properties": {
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "plan": _AMOUNT,
        "forecast": _AMOUNT,
        "actual": _AMOUNT,
        "actual_validated": {"type": "boolean"},
    },
}
_MEASURE = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "examples": ["OPS-12"]},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "unit": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Level (organization, portfolio, program, project, package) to name.",
        },
        "stage": {"type": "string", "examples": ["DI2"]},
        "held_from_stage": {"type": ["string", "null"]},
        "implementation_status": {"type": "string"},
        "potential_status": {"type": "string"},
        "owner": {"type": ["string", "null"], "description": "Slack user id."},
        "sponsor": {"type": ["string", "null"]},
        "controller": {"type": ["string", "null"]},
        "due": {"type": ["string", "null"], "format": "date"},
        "currency": {"type": "string", "description": "ISO 4217 code of every amount of this measure."},
        "baseline": _AMOUNT,
        "target": _AMOUNT,
        "one_time_cost": _AMOUNT,
        "version": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "months": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Month"},
            "description": "Only in GET /measures/{key}.",
        },
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Only in GET /measures/{key}: the values of its portfolio's custom fields, by name, as "
            "stored (an amount in whole units of `currency`, a number as a decimal string, a date as YYYY-MM-DD, "
            "a person as a Slack user id).",
        },
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {str(status): {"description": "Refused", **error} for status in statuses}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "A retry with the same key gets the first answer and changes nothing (kept 24 hours).",
}
_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
_MONTHS_BODY = {
    "type": "object",
    "required": ["months"],
    "properties": {
        "months": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"plan": _AMOUNT, "forecast": _AMOUNT, "actual": _AMOUNT},
            },
        }
    },
    "examples": [{"months": {"2027-01": {"plan": 10000, "forecast": 9000}, "2026-11": {"actual": 8200}}}],
}
_ACTUALS_BODY = {
    "type": "object",
    "required": ["actuals"],
    "properties": {
        "actuals": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "month", "actual"],
                "properties": {"key": {"type": "string"}, "month": {"type": "string"}, "actual": {"type": "integer"}},
            },
        }
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Pacekeeper API",
        "version": "1",
        "description": "Measures and their months for ERP and BI "
        "tools. Tokens: `/measure api-token new NAME [read|write]` in Slack (admins). Rate: per token, "
        "answered 429 with Retry-After.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR, "Month": _MONTH, "Measure": _MEASURE},
    },
    "paths": {
        "/measures": {
            "get": {
                "summary": "A page of measures, by id",
                "parameters": [
                    {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "A unit's name."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "integer"},
                        "description": "next_after of the page before.",
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "measures": {"type": "array", "items": {"$ref": "#/components/schemas/Measure"}},
                                "next": {"type": ["string", "null"]},
                                "next_after": {"type": ["integer", "null"]},
                            },
                        }
                    ),
                    **_errors(401, 404, 422, 429),
                },
            }
        },
        "/measures/{key}": {
            "get": {
                "summary": "One measure with its months",
                "parameters": [_KEY],
                "responses": {"200": _json({"$ref": "#/components/schemas/Measure"}), **_errors(401, 404, 429)},
            }
        },
        "/measures/{key}/months": {
            "put": {
                "summary": "Set plan, forecast and actual by month (null clears); all or nothing",
                "parameters": [_KEY, _IDEMPOTENCY],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _MONTHS_BODY}}},
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "changed": {"type": "integer"},
                                "measure": {"$ref": "#/components/schemas/Measure"},
                            },
                        }
                    ),
                    **_errors(400, 401, 403, 404, 422, 429),
                },
            }
        },
        "/measures/{key}/fields": {
            "put": {
                "summary": "Set the measure's custom fields (null clears); read by each field's type; all or nothing",
                "parameters": [_KEY, _IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["fields"],
                                "properties": {
                                    "fields": {
                                        "type": "object",
                                        "additionalProperties": {"type": ["string", "integer", "null"]},
                                    }
                                },
                                "examples": [{"fields": {"customer_segment": "Enterprise", "capex": 1200000}}],
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "changed": {"type": "array", "items": {"type": "string"}},
                                "measure": {"$ref": "#/components/schemas/Measure"},
                            },
                        }
                    ),
                    **_errors(400, 401, 403, 404, 422, 429),
                },
            }
        },
        "/actuals": {
            "post": {
                "summary": "Actuals in bulk (entered, not validated); all or nothing",
                "parameters": [_IDEMPOTENCY],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ACTUALS_BODY}}},
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "changed": {"type": "integer"},
                                "measures": {"type": "integer"},
                                "unchanged": {"type": "integer"},
                            },
                        }
                    ),
                    **_errors(400, 401, 403, 422, 429),
                },
            }
        },
        "/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
    },
}
