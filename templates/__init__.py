"""The default theme: Jinja templates and assets (packaged as countnight.theme)."""
