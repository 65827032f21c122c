"""Routing: which category and which town/community a request belongs to.

The pure cores (``classifier``, ``locate``, ``dataset``) need no database;
``service`` wires them to persisted models and rules.
"""
