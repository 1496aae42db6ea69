"""What the consent app announces to apps below it (referrals puts dependent work on hold).

Sent once the transaction that ended the release has committed, so a receiver never acts on
a change that was rolled back. Receivers get ids only.
"""

from django.dispatch import Signal

# A release stopped being in force early. kwargs: release_id (int), reason ("revoked").
release_ended = Signal()
