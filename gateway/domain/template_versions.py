"""Template versions: an edit of an approved SMS template makes a new version that needs approval,
while the approved one keeps serving sends. Pure.

A stored template's top-level ``body``/``subject``/``version``/``status`` are its **live**
version, the one sends render (workers read nothing else). Once an SMS template has an approved
version, an edit of its text goes into ``candidate``: ``{"version", "body", "status": draft |
pending | rejected, ...}``; submit, approve and reject act on the candidate, and approving it
makes it the live version (the old one is ``retired``). A rejected candidate leaves the approved
version serving. Before the first approval (and for email templates, which need no approval) an
edit changes the template itself and bumps its version, as before.

Every version is also kept in a history (:func:`history`): what each change leaves of each
version it touched, so ``GET .../versions`` lists them all and reports can be compared per version.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.templates import TRANSITIONS, Conflict, dlt_template_id

CANDIDATE = "candidate"
_SNAPSHOT = ("version", "body", "subject", "status", "dlt_template_id", "reject_reason")
_TEXT = ("body", "subject")


def live(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in _SNAPSHOT if k in rec} | {"version": int(rec.get("version", 1))}


def candidate(rec: dict[str, Any]) -> dict[str, Any] | None:
    cand = rec.get(CANDIDATE)
    return dict(cand) if isinstance(cand, dict) else None


def _guarded(rec: dict[str, Any]) -> bool:
    """Whether edits go into a candidate: an SMS template whose live version is approved."""
    return bool(rec["channel"] == "sms" and rec["status"] == "approved")


def _newest(rec: dict[str, Any]) -> int:
    cand = candidate(rec)
    return max(int(rec.get("version", 1)), int(cand["version"]) if cand else 0)


def edit(stored: dict[str, Any], texts: dict[str, str], name: str | None, submit: bool) -> dict[str, Any]:
    """Apply an edit (``texts``: the new body/subject given; ``submit``: submit the result at once)."""
    rec = dict(stored)
    if name is not None:
        rec["name"] = name
    if _guarded(stored):
        cand = candidate(stored)
        base = cand or live(stored)
        if any(texts[k] != base.get(k) for k in texts):
            if cand is not None and cand["status"] == "draft":
                cand = dict(cand, **texts)  # a draft is edited in place
            else:  # a pending or rejected version stays what it was: a new one starts
                cand = {k: v for k, v in live(stored).items() if k in _TEXT} | texts
                cand |= {"version": _newest(stored) + 1, "status": "draft"}
            rec[CANDIDATE] = cand
        if submit:
            if cand is None:
                raise Conflict("there is no new version to submit (the live version is approved)")
            if cand["status"] != "pending":
                cand = dict(cand, status="pending")
                cand.pop("reject_reason", None)
                rec[CANDIDATE] = cand
        return rec
    if any(texts[k] != stored.get(k) for k in texts):
        rec.update(texts)
        rec["version"] = int(stored.get("version", 1)) + 1
        if stored["channel"] == "sms":
            rec["status"] = "draft"
            rec.pop("dlt_template_id", None)
            rec.pop("reject_reason", None)
    if submit:
        return act(rec, "submit")
    return rec


def act(stored: dict[str, Any], action: str, *, dlt: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """``submit`` / ``approve`` / ``reject``: on the candidate when there is one, else on the template.

    ``dlt``: the DLT template id given with an approval; ``reason``: a rejection's reason."""
    if stored["channel"] != "sms":
        raise Conflict("only SMS templates go through approval")
    cand = candidate(stored)
    target = cand if cand is not None else stored
    allowed = sorted(TRANSITIONS[action][0])
    if target["status"] not in allowed:
        what = f"version {target['version']}" if cand is not None else "template"
        raise Conflict(f"cannot {action} a {target['status']} {what} (allowed from: {', '.join(allowed)})")
    rec = dict(stored)
    if action == "submit":
        target = dict(target, status="pending")
        target.pop("reject_reason", None)
    elif action == "reject":
        target = dict(target, status="rejected")
        if reason:
            target["reject_reason"] = reason[:500]
    else:
        target = dict(target, status="approved")
        target.pop("reject_reason", None)
        target.pop("dlt_template_id", None)
        if dlt is not None:
            target["dlt_template_id"] = dlt_template_id(dlt)
    if cand is None:
        rec.update({k: v for k, v in target.items() if k in _SNAPSHOT})
        if "reject_reason" not in target:
            rec.pop("reject_reason", None)
        if action == "approve" and "dlt_template_id" not in target:
            rec.pop("dlt_template_id", None)
        return rec
    if action == "approve":  # the candidate becomes the live version
        rec.pop(CANDIDATE)
        for key in ("subject", "dlt_template_id", "reject_reason"):
            rec.pop(key, None)
        rec.update({k: v for k, v in target.items() if k in _SNAPSHOT})
        return rec
    rec[CANDIDATE] = target
    return rec


def _versions(rec: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    if rec is None:
        return {}
    out = {int(rec.get("version", 1)): live(rec)}
    cand = candidate(rec)
    if cand is not None:
        out[int(cand["version"])] = {k: cand[k] for k in _SNAPSHOT if k in cand}
    return out


def history(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """The version entries a change writes: every version ``after`` holds, and those ``before``
    held that it no longer does (an approved one ``retired``, a draft or pending one ``withdrawn``,
    a rejected one stays ``rejected``)."""
    now = _versions(after)
    out = list(now.values())
    for number, old in _versions(before).items():
        if number not in now:
            status = {"approved": "retired", "rejected": "rejected"}.get(old["status"], "withdrawn")
            out.append(dict(old, status=status))
    return sorted(out, key=lambda v: int(v["version"]))


def is_live(rec: dict[str, Any], version: int) -> bool:
    """Whether sends use ``version`` now (an SMS template's only while approved)."""
    return int(rec.get("version", 1)) == version and (rec["channel"] != "sms" or rec["status"] == "approved")


def public(rec: dict[str, Any]) -> dict[str, Any]:
    """The template as the API shows it: the live version's fields, and the new version (if any)
    as ``draft`` (draft or rejected) or ``pending``."""
    out = {k: v for k, v in rec.items() if k != CANDIDATE}
    cand = candidate(rec)
    if cand is not None:
        out["pending" if cand["status"] == "pending" else "draft"] = cand
    return out
