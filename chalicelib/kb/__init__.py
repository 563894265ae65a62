"""Knowledge base: help articles (Markdown, versions, translations, slugs), categories and
article images."""
