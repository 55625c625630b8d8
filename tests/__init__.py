"""citebot test suite (a package, so tests import shared helpers relatively)."""
