"""OpenAPI of automation rules and template versions; merged into the document by
``operations.py`` and ``schemas.py``."""

from __future__ import annotations

from gateway.api.openapi.build import (
    NO_CONTENT,
    ORG_ADMIN,
    Schema,
    id_schema,
    json_body,
    obj,
    ok,
    operation,
    ref,
)
from gateway.domain import automation
from gateway.domain.signals import SIGNAL_TYPES

ORG = "/api/v1/orgs/{org}"


_TO: Schema = {
    "oneOf": [
        {"type": "string", "enum": list(automation.TARGETS)},
        obj({"user": id_schema("user")}, ("user",), closed=True),
    ],
    "description": "`contact`: the signal's contact (its mobile for SMS); `owner`: the contact's owner; a user",
}
_ACTION = obj(
    {
        "channel": {"type": "string", "enum": list(automation.CHANNELS)},
        "template": id_schema("template"),
        "to": _TO,
    },
    ("channel", "template", "to"),
    closed=True,
)
_RULE_PROPS: dict[str, Schema] = {
    "on": {"type": "string", "enum": list(SIGNAL_TYPES), "description": "the signal type"},
    "unread_for": {
        "type": "integer",
        "minimum": automation.UNREAD_FOR_MIN,
        "maximum": automation.UNREAD_FOR_MAX,
        "description": "seconds: send only if the signal is still unread this long after it was created",
    },
    "action": _ACTION,
    "enabled": {"type": "boolean", "default": True},
    "name": {"type": "string", "maxLength": 200},
}
RULE_INPUT = obj(_RULE_PROPS, ("on", "action"), closed=True)
RULE = obj(
    {
        "id": id_schema("rule"),
        **_RULE_PROPS,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    ("id", "on", "action", "enabled", "created_at", "updated_at"),
)
RULE_LIST = obj({"rules": {"type": "array", "items": ref("Rule")}}, ("rules",))

TEMPLATE_VERSION = obj(
    {
        "version": {"type": "integer", "minimum": 1},
        "status": {
            "type": "string",
            "enum": ["draft", "pending", "approved", "rejected", "retired", "withdrawn"],
            "description": "`retired`: approved once, replaced by a newer approved version",
        },
        "body": {"type": "string"},
        "subject": {"type": "string"},
        "live": {"type": "boolean", "description": "the version sends use now"},
        "dlt_template_id": {"type": "string"},
        "reject_reason": {"type": "string"},
        "created_ms": {"type": "integer"},
        "updated_ms": {"type": "integer"},
    },
    ("version", "status", "body", "live"),
)
TEMPLATE_VERSIONS = obj(
    {"template": {"type": "string"}, "versions": {"type": "array", "items": ref("TemplateVersion")}},
    ("template", "versions"),
)

SCHEMAS: dict[str, Schema] = {
    "RuleInput": RULE_INPUT,
    "Rule": RULE,
    "RuleList": RULE_LIST,
    "TemplateVersion": TEMPLATE_VERSION,
    "TemplateVersions": TEMPLATE_VERSIONS,
}


def operations() -> dict[tuple[str, str], Schema]:
    one = f"{ORG}/rules/{{rule}}"
    return {
        (f"{ORG}/rules", "GET"): operation(
            "The org's automation rules", ok("200", "the rules", "RuleList"), security=ORG_ADMIN
        ),
        (one, "PUT"): operation(
            "Create or replace an automation rule (send once per signal when one is created, or stays unread)",
            {**ok("200", "replaced", "Rule"), **ok("201", "created", "Rule")},
            security=ORG_ADMIN,
            body=json_body(ref("RuleInput")),
            extra_errors={
                "409": "the SMS template is not approved (`template_not_approved`), the email template does not "
                "exist (`template_not_found`), or the org has too many rules (`too_many_rules`)"
            },
        ),
        (one, "GET"): operation("One automation rule", ok("200", "the rule", "Rule"), security=ORG_ADMIN),
        (one, "DELETE"): operation(
            "Delete a rule (its pending unread_for timers send nothing)", NO_CONTENT, security=ORG_ADMIN
        ),
        (f"{ORG}/templates/{{template}}/versions", "GET"): operation(
            "A template's versions, oldest first (the live one marked `live`)",
            ok("200", "the versions", "TemplateVersions"),
            security=ORG_ADMIN,
        ),
    }
