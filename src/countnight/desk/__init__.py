"""The reporters' desk: a phone-first web app that writes entry files into ``entries/``.

The files stay the source of truth: the desk only writes them (atomically, never overwriting) and
edits them through the command line's own editing code; the watcher publishes them like any file.

- ``reporters``: who may sign in (secrets hashed at rest), sessions, the CSRF key.
- ``candidates``: ``candidates.csv``, read for the forms and written from the Library's 2024 data.
- ``forms``: a form → an entry file's text, checked by the build's own reader, errors at their fields.
- ``drop``: writing an entry the maildir way, the desk's action log, and whether an entry is live.
- ``app``: the Starlette application (routes, CSRF, rate limits, security headers).
"""
