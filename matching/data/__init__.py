"""Data files shipped with the matcher: the user dictionary and the stopword list."""
