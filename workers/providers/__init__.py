"""Adapters for the services that carry messages out (Twilio SMS, SMTP email), behind the workers' protocols."""
