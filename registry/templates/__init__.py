"""Server-rendered public pages of the registry: plain string templates (``markup.fill`` escapes
every value), one word list per language (``text``), and a stylesheet. No scripts."""
