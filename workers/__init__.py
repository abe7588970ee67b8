"""arq workers: sending SMS and email under quotas (see issue 3)."""
