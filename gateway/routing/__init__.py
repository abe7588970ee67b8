"""Routing: raw events from the partition streams become signals in users' feeds.

Leaves first: :mod:`rules` and :mod:`mail_rules` decide (pure: which contact, which signal, for
whom); :mod:`mail` and :mod:`router` do the I/O (consumer groups, lookups, feed writes).
"""
