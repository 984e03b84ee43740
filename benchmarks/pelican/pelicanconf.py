"""Pelican peer for benchmarks/run.py: one index page that shows every article in full, nothing else.

As issue 8 asks, articles are not written one by one (ARTICLE_SAVE_AS = ""), nor are categories, tags,
authors, archives or feeds: Pelican reads and renders all N entries and writes the list.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

SITENAME = "Benchmark night (synthetic)"
SITEURL = ""
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
THEME = os.path.join(HERE, "theme")
THEME_STATIC_PATHS: list[str] = []
STATIC_PATHS: list[str] = []

DIRECT_TEMPLATES = ["index"]
DEFAULT_PAGINATION = False
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

CACHE_CONTENT = False  # a cold build every time, like the others
LOAD_CONTENT_CACHE = False
DELETE_OUTPUT_DIRECTORY = False
