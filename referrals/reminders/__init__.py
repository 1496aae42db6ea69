"""Follow-up reminders and escalations (ARCHITECTURE.md, "Reminders and other background work").

- `rules`: the network's rules and a partnership's override; `calendar`: business days.
- `schedule`: the due moments services store on a referral when it is sent or updated.
- `sweep`: the beat task's work: find what is due through indexes, create reminder rows
  (unique per object, kind and due moment), queue their delivery by id.
- `delivery`: deliver one reminder (in-app notifications, then email), email one
  notification, send the daily digests — each claimed in the database, so exactly once.
"""
