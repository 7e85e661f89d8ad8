"""One blueprint per route family of http-api §2."""
