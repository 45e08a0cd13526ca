"""Contracts and helpers shared by every Everything Market component.

Only contracts live here (payload models, signing, settings rules, constants, connection
helpers); business logic belongs to the service that owns it.
"""
