"""The rules of the product, pure: values in, values out — no Redis, no HTTP, no clock of their own.

Imports only the standard library, orjson, phonenumbers and jinja2 (and each other). What the API,
the router and the workers all decide the same way lives here: the signal and event vocabulary
(:mod:`signals`, :mod:`events`, :mod:`status`, :mod:`streamid`), tenancy records and id checks
(:mod:`tenancy`, :mod:`phones`), sending (:mod:`send_request`, :mod:`notifications`,
:mod:`quota`, :mod:`templates`, :mod:`rendering`), reports (:mod:`reports`), tracking tokens
(:mod:`tracking`), the IMAP checkpoint value (:mod:`mailbox`) and the errors that cross the HTTP
edge (:mod:`errors`).
"""
