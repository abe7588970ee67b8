"""arq workers: sending SMS and email under credits, daily caps and template rules, exactly once."""
