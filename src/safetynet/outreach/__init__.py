"""Assistance beyond cash, first part: active discovery (leads) and the social-assistance hotline
(calls, complaints, routing, escalation, ratings). See docs/services.md."""
