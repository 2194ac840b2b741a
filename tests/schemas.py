"""Memory-type schemas the tests configure (``context.schemas``), shaped like memory-template's."""

from __future__ import annotations

from typing import Any

__all__ = ["NOTE", "PREFERENCE", "USER"]

NOTE: dict[str, Any] = {
    "name": "Note",
    "description": "Notable things the user shared (memory-template's Note).",
    "parameters": {
        "type": "object",
        "properties": {"context": {"type": "string"}, "content": {"type": "string"}},
        "required": ["context", "content"],
    },
    "update_mode": "insert",
}
"""A collection: one item per fact, with the turn it came from."""

PREFERENCE: dict[str, Any] = {
    "name": "Preference",
    "description": "Something the user likes or dislikes.",
    "parameters": {
        "type": "object",
        "properties": {"item": {"type": "string"}, "likes": {"type": "boolean"}},
        "required": ["item", "likes"],
    },
    "update_mode": "insert",
}
"""A collection with a typed (boolean) field."""

USER: dict[str, Any] = {
    "name": "User",
    "description": "The user's profile (memory-template's User).",
    "parameters": {
        "type": "object",
        "properties": {
            "user_name": {"type": "string"},
            "age": {"type": "integer"},
            "home": {"type": "string"},
            "occupation": {"type": "string"},
            "interests": {"type": "array", "items": {"type": "string"}},
        },
    },
    "update_mode": "patch",
}
"""A profile: one document per namespace, patched in place."""
