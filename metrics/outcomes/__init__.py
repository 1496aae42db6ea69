"""Outcome measures a partnership defines, from values its partners report for clients."""
