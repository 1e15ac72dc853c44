"""Protocols (playbooks): triggers → assignment → escalation along a chain, with an SLA clock.

A sub-domain of moderation kept in its own package (services, selectors, rules, views) beside the
flag-and-queue modules of ``moderation``. The periodic entry point is ``services.protocols_tick``.
"""
