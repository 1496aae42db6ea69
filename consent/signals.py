"""What the consent app announces to apps below it (referrals puts dependent work on hold).

Sent once the transaction that ended the release has committed, so a receiver never acts on
a change that was rolled back. Receivers get ids only.
"""

from django.dispatch import Signal

# A release stopped being in force early. kwargs: release_id (int), reason ("revoked").
release_ended = Signal()

# A release link was made for the client to sign on their own phone (consent by link).
# kwargs: link_id (int), url (str: the one-time link, to be delivered to the client and
# never logged), channel ("sms" or "email"). Sent after the transaction commits; outreach
# delivers the message.
release_link_created = Signal()

# A release was signed through its link (referrals waiting for it may now be sent).
# kwargs: release_id (int), link_id (int).
release_link_signed = Signal()
