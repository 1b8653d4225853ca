"""Notifications: an outbox table, one transport interface, a worker, the daily digest.

- Queue (domain side, no sending): `workflows.core.notify.queue(session, *, items, as_of)` writes
  one row per channel the person chose — the inbox row already delivered, e-mail and the
  department robot pending — with INSERT … ON CONFLICT (dedupe_key) DO NOTHING.
- Send (a job, never a web request): `outbox.drain(engine, *, as_of)` / `outbox.dispatch(...)`
  claim due rows with a conditional UPDATE (SKIP LOCKED on PostgreSQL), send each outside
  the claiming transaction through `base.Transport.send(message)`, and record sent,
  retry-with-backoff (1, 2, 4 … minutes) or dead with the error.
- Channels: `email.EmailTransport` (SMTP), `webhook.WebhookTransport` (WeCom / DingTalk
  robots), `base.InboxTransport`.
- `digest.build_digests(session, *, as_of)`: the 08:30 working-day digest.
- `inbox`: the user's messages and preferences; `robots`: department robots and the dead
  list, for admins.
"""
