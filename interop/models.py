"""Interop's tables live in their sub-packages; Django finds them through this module."""
