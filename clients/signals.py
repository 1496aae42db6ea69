"""What the clients app announces to the apps above it.

Sent inside the merge's transaction (not after commit), because moving the rows is part of
the merge: a receiver that raises (ValidationError for a conflict it cannot resolve) rolls
the whole merge back. Receivers get ids only and return how many rows they moved.
"""

from django.dispatch import Signal

# Two records were found to be one person. kwargs: survivor_id, duplicate_id (ints), actor_id
# (the user merging). Each app that keeps rows about clients moves the duplicate's rows to the
# survivor (the clients app cannot import them: they sit above it in the layer map).
client_merged = Signal()
