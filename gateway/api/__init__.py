"""The REST API, one module per family of endpoints.

:mod:`orgs` (orgs, users, contacts, tokens, the call log), :mod:`me` (the signed-in user's feed
and settings), :mod:`actions` (a user's reply to a signal, the templates it can use),
:mod:`notifications` (sending and reminders), :mod:`templates`, :mod:`account` (credits, usage,
reports), :mod:`activity`, and :mod:`openapi`, the document describing them.
Every endpoint starts from :mod:`gateway.http` (auth, the org, the JSON body).
"""
