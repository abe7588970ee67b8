"""Unit tests for gateway.domain.tenancy: validation and merge of org, user and contact payloads."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import ORG_DEFAULTS, ORG_ID, check_id, merge_contact, merge_org, merge_user, public_org

SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "tw-auth-token-SECRET-0123456789"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef-webhook").decode()
JP_ORG: dict[str, Any] = {"id": "acme", "country": "JP"}
GOOD_SENDER: dict[str, Any] = {"sender_id": "ACMEJP", "entity_id": "1" * 19, "operator": "Jio"}


def _bad(code: str, fn: Any, *args: Any) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        fn(*args)
    assert info.value.code == code, info.value.detail
    assert info.value.status == 400
    assert info.value.detail
    return info.value


# --- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("org_id", ["acme", "a", "a-1", "0", "x" * 40, "my-org-2024"])
def test_valid_org_ids(org_id: str) -> None:
    """Org ids of 1-40 lower-case letters, digits and dashes are accepted."""
    assert check_id("org", org_id, ORG_ID) == org_id
    assert merge_org(org_id, {}, None)["id"] == org_id


@pytest.mark.parametrize(
    "org_id", ["", "Acme", "ac_me", "ac.me", "ac me", "x" * 41, "日本", "acme/x", "acme\n", "\nacme"], ids=repr
)
def test_invalid_org_ids(org_id: str) -> None:
    """Other org ids (incl. one with a trailing newline) are refused with invalid_id."""
    _bad("invalid_id", check_id, "org", org_id, ORG_ID)
    _bad("invalid_id", merge_org, org_id, {}, None)


@pytest.mark.parametrize("record_id", ["sato", "Sato_01", "a.b@c-d", "x" * 64])
def test_valid_record_ids(record_id: str) -> None:
    """User and contact ids of 1-64 of [A-Za-z0-9_.@-] are accepted."""
    assert check_id("user", record_id) == record_id


@pytest.mark.parametrize("record_id", ["", "x" * 65, "a b", "a/b", "a:b", "佐藤", "sato\n"], ids=repr)
def test_invalid_record_ids(record_id: str) -> None:
    """Other user and contact ids are refused with invalid_id."""
    _bad("invalid_id", merge_user, JP_ORG, record_id, {}, None)
    _bad("invalid_id", merge_contact, JP_ORG, record_id, {}, None)


# --- org -----------------------------------------------------------------------------------------


def test_new_org_gets_defaults() -> None:
    """An empty body on a new org gives the defaults with name = id."""
    rec = merge_org("acme", {}, None)
    assert rec == {"id": "acme", "name": "acme", **ORG_DEFAULTS}


@pytest.mark.parametrize("body", [None, [], "x", 1])
def test_org_body_must_be_object(body: Any) -> None:
    """A non-object body is refused with invalid_body."""
    _bad("invalid_body", merge_org, "acme", body, None)


def test_org_unknown_field_is_refused() -> None:
    """Unknown top-level org fields are refused with unknown_field naming them."""
    err = _bad("unknown_field", merge_org, "acme", {"name": "A", "colour": "red"}, None)
    assert "colour" in err.detail


@pytest.mark.parametrize("plan", ["free", "standard", "professional", "enterprise"])
def test_valid_plans(plan: str) -> None:
    """Each documented plan is accepted."""
    assert merge_org("acme", {"plan": plan}, None)["plan"] == plan


@pytest.mark.parametrize("plan", ["gold", "Free", "", None, 1])
def test_invalid_plans(plan: Any) -> None:
    """Other plans are refused with invalid_field."""
    _bad("invalid_field", merge_org, "acme", {"plan": plan}, None)


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "UTC", "America/New_York", "Asia/Kolkata"])
def test_valid_timezones(tz: str) -> None:
    """IANA time zone names are accepted."""
    assert merge_org("acme", {"timezone": tz}, None)["timezone"] == tz


@pytest.mark.parametrize(
    "tz", ["Mars/Base", "", "asia/tokyo", "../etc/passwd", "/etc/localtime", "JST+9x", 9, "x" * 65]
)
def test_invalid_timezones(tz: Any) -> None:
    """Non-IANA zones, paths and non-strings are refused with invalid_field."""
    _bad("invalid_field", merge_org, "acme", {"timezone": tz}, None)


@pytest.mark.parametrize("country", ["JP", "US", "IN"])
def test_valid_countries(country: str) -> None:
    """Two capital letters are accepted as country."""
    assert merge_org("acme", {"country": country}, None)["country"] == country


@pytest.mark.parametrize("country", ["jp", "JPN", "J", "", "J1", 81, None])
def test_invalid_countries(country: Any) -> None:
    """Other countries are refused with invalid_field."""
    _bad("invalid_field", merge_org, "acme", {"country": country}, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("active_users", 0),
        ("active_users", 1_000_000),
        ("mass_email_addon", 0),
        ("mass_email_addon", 2250),
        ("tracking", False),
        ("reminders", False),
        ("allow_lead_creation", True),
        ("name", "Acme 株式会社"),
    ],
)
def test_valid_scalar_org_fields(key: str, value: Any) -> None:
    """In-range integers, booleans and names are stored as given."""
    assert merge_org("acme", {key: value}, None)[key] == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("active_users", -1),
        ("active_users", 1_000_001),
        ("active_users", True),
        ("active_users", 1.5),
        ("active_users", "3"),
        ("mass_email_addon", 2251),
        ("tracking", "true"),
        ("tracking", 1),
        ("reminders", None),
        ("name", 5),
        ("name", "x" * 201),
    ],
)
def test_invalid_scalar_org_fields(key: str, value: Any) -> None:
    """Out-of-range or wrongly typed org fields are refused with invalid_field."""
    _bad("invalid_field", merge_org, "acme", {key: value}, None)


def _stored_org() -> dict[str, Any]:
    return merge_org(
        "acme",
        {
            "name": "Acme",
            "plan": "enterprise",
            "country": "JP",
            "timezone": "Asia/Tokyo",
            "twilio": {"account_sid": SID, "auth_token": AUTH_TOKEN, "from_number": "+81 50 1234 5678"},
            "webhook_secret": WEBHOOK_SECRET,
            "sender": GOOD_SENDER,
        },
        None,
    )


def test_merge_keeps_stored_fields_absent_from_body() -> None:
    """A PUT with only some fields keeps every other stored field, secrets included."""
    stored = _stored_org()
    rec = merge_org("acme", {"plan": "standard"}, stored)
    assert rec["plan"] == "standard"
    for key in ("name", "country", "timezone", "twilio", "webhook_secret", "sender"):
        assert rec[key] == stored[key]


def test_merge_partial_twilio_keeps_auth_token() -> None:
    """Updating twilio.from_number alone keeps the stored auth_token and account_sid."""
    stored = _stored_org()
    rec = merge_org("acme", {"twilio": {"from_number": "050-9999-0000"}}, stored)
    assert rec["twilio"] == {"account_sid": SID, "auth_token": AUTH_TOKEN, "from_number": "+815099990000"}


def test_merge_does_not_mutate_stored() -> None:
    """The stored record passed in is left unchanged."""
    stored = _stored_org()
    snapshot = orjson.dumps(stored)
    merge_org("acme", {"twilio": {"auth_token": "new"}, "plan": "free"}, stored)
    assert orjson.dumps(stored) == snapshot


def test_twilio_from_number_uses_new_country_of_same_body() -> None:
    """A national from_number is read in the country given in the same body."""
    rec = merge_org("acme", {"country": "JP", "twilio": {"from_number": "090-1234-5678"}}, None)
    assert rec["twilio"]["from_number"] == "+819012345678"


@pytest.mark.parametrize(
    ("twilio", "code"),
    [
        ("AC123", "invalid_field"),
        ({"account_sid": "AC123"}, "invalid_field"),
        ({"account_sid": "XX" + "0" * 32}, "invalid_field"),
        ({"account_sid": "AC" + "g" * 32}, "invalid_field"),
        ({"account_sid": SID + "\n"}, "invalid_field"),
        ({"auth_token": 5}, "invalid_field"),
        ({"auth_token": "x" * 129}, "invalid_field"),
        ({"from_number": "12"}, "invalid_phone"),
        ({"from_number": 819012345678}, "invalid_phone"),
        ({"api_key": "x"}, "unknown_field"),
    ],
    ids=repr,
)
def test_invalid_twilio(twilio: Any, code: str) -> None:
    """Bad twilio objects are refused (trailing newline on account_sid included)."""
    _bad(code, merge_org, "acme", {"country": "JP", "twilio": twilio}, None)


def test_public_org_hides_secrets() -> None:
    """public_org's JSON contains neither the auth token nor the webhook secret, only *_set flags."""
    stored = _stored_org()
    shown = public_org(stored)
    text = orjson.dumps(shown).decode()
    assert AUTH_TOKEN not in text
    assert WEBHOOK_SECRET not in text
    assert WEBHOOK_SECRET.removeprefix("whsec_") not in text
    assert shown["twilio"]["auth_token_set"] is True
    assert shown["webhook_secret_set"] is True
    assert shown["twilio"]["account_sid"] == SID
    assert shown["sender"] == stored["sender"]
    assert "auth_token" in stored["twilio"]
    assert stored["webhook_secret"] == WEBHOOK_SECRET


def test_public_org_without_secrets() -> None:
    """An org without secrets shows both *_set flags false."""
    shown = public_org(merge_org("acme", {}, None))
    assert shown["twilio"] == {"auth_token_set": False}
    assert shown["webhook_secret_set"] is False


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + base64.b64encode(b"0" * 16).decode(),
        "whsec_" + base64.b64encode(b"\xff" * 32).decode(),
        WEBHOOK_SECRET,
    ],
)
def test_valid_webhook_secrets(secret: str) -> None:
    """whsec_ plus standard base64 of at least 16 bytes is accepted."""
    assert merge_org("acme", {"webhook_secret": secret}, None)["webhook_secret"] == secret


@pytest.mark.parametrize(
    "secret",
    [
        base64.b64encode(b"0" * 16).decode(),
        "whsec_" + base64.b64encode(b"0" * 15).decode(),
        "whsec_",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"\xff" * 32).decode().replace("/", "_").replace("+", "-"),
        "WHSEC_" + base64.b64encode(b"0" * 16).decode(),
        16,
        None,
    ],
    ids=repr,
)
def test_invalid_webhook_secrets(secret: Any) -> None:
    """Missing prefix, non-base64, short keys and non-strings are refused with invalid_field."""
    _bad("invalid_field", merge_org, "acme", {"webhook_secret": secret}, None)


# --- India DLT sender ----------------------------------------------------------------------------


def test_valid_sender() -> None:
    """A sender with capital header, 19-digit entity id and operator is stored."""
    rec = merge_org("acme", {"sender": {**GOOD_SENDER, "entity_name": "Acme India"}}, None)
    assert rec["sender"] == {**GOOD_SENDER, "entity_name": "Acme India"}


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        ("ACME", "invalid_field"),
        ({**GOOD_SENDER, "sender_id": "acme"}, "invalid_field"),
        ({**GOOD_SENDER, "sender_id": "AC-ME"}, "invalid_field"),
        ({**GOOD_SENDER, "sender_id": ""}, "invalid_field"),
        ({**GOOD_SENDER, "sender_id": "ABCDEFGHIJKL"}, "invalid_field"),
        ({**GOOD_SENDER, "sender_id": "ACME\n"}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": "1" * 18}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": "1" * 20}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": "1" * 18 + "a"}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": 1111111111111111111}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": "１" * 19}, "invalid_field"),
        ({**GOOD_SENDER, "entity_id": "١" * 19}, "invalid_field"),
        ({"sender_id": "ACME", "entity_id": "1" * 19}, "invalid_field"),
        ({"sender_id": "ACME", "operator": "Jio"}, "invalid_field"),
        ({"entity_id": "1" * 19, "operator": "Jio"}, "invalid_field"),
        ({**GOOD_SENDER, "template": "x"}, "unknown_field"),
    ],
    ids=repr,
)
def test_invalid_sender(sender: Any, code: str) -> None:
    """Bad sender registrations are refused (ASCII capitals/digits header, exactly 19 ASCII digits)."""
    _bad(code, merge_org, "acme", {"sender": sender}, None)


# --- users ---------------------------------------------------------------------------------------


def test_new_user_defaults() -> None:
    """A new user with an empty body gets name = id, role member and reminders on."""
    assert merge_user(JP_ORG, "sato", {}, None) == {"id": "sato", "name": "sato", "role": "member", "reminders": True}


def test_user_phone_national_format_uses_org_country() -> None:
    """A national phone number is normalised using the org country (JP)."""
    assert merge_user(JP_ORG, "sato", {"phone": "090-1234-5678"}, None)["phone"] == "+819012345678"


def test_user_phone_national_format_in_us_org() -> None:
    """The same national-format logic uses US for a US org."""
    assert merge_user({"country": "US"}, "bob", {"phone": "(650) 253-0000"}, None)["phone"] == "+16502530000"


@pytest.mark.parametrize("phone", ["12", "090-1234", "phone", "", 9012345678])
def test_user_invalid_phone(phone: Any) -> None:
    """Invalid or non-string phones are refused with invalid_phone."""
    _bad("invalid_phone", merge_user, JP_ORG, "sato", {"phone": phone}, None)


def test_user_email_is_lower_cased() -> None:
    """User emails are stored lower-case."""
    assert merge_user(JP_ORG, "sato", {"email": "Sato@Example.JP"}, None)["email"] == "sato@example.jp"


@pytest.mark.parametrize(
    "email", ["sato", "sato@", "@example.jp", "sato@example", "a b@example.jp", 5, "a@" + "x" * 250 + ".jp"]
)
def test_user_invalid_email(email: Any) -> None:
    """Invalid emails are refused with invalid_email."""
    _bad("invalid_email", merge_user, JP_ORG, "sato", {"email": email}, None)


@pytest.mark.parametrize(
    ("body", "code"),
    [({"role": "owner"}, "invalid_field"), ({"reminders": "no"}, "invalid_field"), ({"team": "x"}, "unknown_field")],
)
def test_user_invalid_fields(body: dict[str, Any], code: str) -> None:
    """Bad role, non-bool reminders and unknown fields are refused."""
    _bad(code, merge_user, JP_ORG, "sato", body, None)


def test_user_body_must_be_object() -> None:
    """A non-object user body is refused with invalid_body."""
    _bad("invalid_body", merge_user, JP_ORG, "sato", ["x"], None)


def test_user_merge_keeps_stored_fields() -> None:
    """Updating the role keeps stored name, email and phone."""
    stored = merge_user(JP_ORG, "sato", {"name": "佐藤", "email": "sato@example.jp", "phone": "09012345678"}, None)
    rec = merge_user(JP_ORG, "sato", {"role": "admin"}, stored)
    assert rec == {**stored, "role": "admin"}


# --- contacts ------------------------------------------------------------------------------------


def test_new_contact_defaults() -> None:
    """A new contact with an empty body gets the documented defaults."""
    assert merge_contact(JP_ORG, "c1", {}, None) == {
        "id": "c1",
        "kind": "contact",
        "name": "c1",
        "company": None,
        "emails": [],
        "phones": [],
        "owner": None,
        "marketing": False,
        "fields": {},
    }


def test_contact_emails_lower_cased_and_deduplicated() -> None:
    """Emails are lower-cased, de-duplicated and sorted."""
    rec = merge_contact(
        JP_ORG, "c1", {"emails": ["B@Example.jp", "a@example.jp", "b@example.JP", "A@EXAMPLE.JP"]}, None
    )
    assert rec["emails"] == ["a@example.jp", "b@example.jp"]


def test_contact_phones_normalised_and_deduplicated() -> None:
    """National and international spellings of one number collapse to one E.164 entry."""
    rec = merge_contact(JP_ORG, "c1", {"phones": ["090-1234-5678", "+81 90 1234 5678", "03-1234-5678"]}, None)
    assert rec["phones"] == [{"number": "+81312345678", "type": "other"}, {"number": "+819012345678", "type": "mobile"}]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phones": ["090-1234-5678", "12"]}, "invalid_phone"),
        ({"phones": [None]}, "invalid_phone"),
        ({"phones": "090-1234-5678"}, "invalid_field"),
        ({"emails": ["ok@example.jp", "nope"]}, "invalid_email"),
        ({"emails": "a@example.jp"}, "invalid_field"),
        ({"emails": [f"u{i}@example.jp" for i in range(51)]}, "invalid_field"),
        ({"kind": "customer"}, "invalid_field"),
        ({"marketing": "yes"}, "invalid_field"),
        ({"name": ["x"]}, "invalid_field"),
        ({"owner": "bad owner"}, "invalid_id"),
        ({"owner": 5}, "invalid_id"),
        ({"owner": True}, "invalid_id"),
        ({"company": 5}, "invalid_field"),
        ({"region": "関西"}, "unknown_field"),
    ],
    ids=repr,
)
def test_contact_invalid(body: dict[str, Any], code: str) -> None:
    """Invalid contact fields are refused with the matching code (non-string owners included)."""
    _bad(code, merge_contact, JP_ORG, "c1", body, None)


@pytest.mark.parametrize("kind", ["lead", "contact"])
def test_contact_kinds(kind: str) -> None:
    """Contacts can be leads or contacts."""
    assert merge_contact(JP_ORG, "c1", {"kind": kind}, None)["kind"] == kind


@pytest.mark.parametrize("owner", ["sato", None])
def test_contact_owner(owner: str | None) -> None:
    """Owner is a user id or null."""
    assert merge_contact(JP_ORG, "c1", {"owner": owner}, None)["owner"] == owner


def test_contact_merge_keeps_stored_fields() -> None:
    """Updating the name keeps stored emails, phones, owner and kind."""
    stored = merge_contact(
        JP_ORG, "c1", {"kind": "lead", "emails": ["a@example.jp"], "phones": ["09012345678"], "owner": "sato"}, None
    )
    rec = merge_contact(JP_ORG, "c1", {"name": "田中"}, stored)
    assert rec == {**stored, "name": "田中"}
