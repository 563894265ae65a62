"""Server-rendered pages (HTML that works without JavaScript), in English and French."""
