"""needgraph: a cognitive graph centred on customer needs, for telecom customer-service analysis.

Importing this package is cheap: it loads no torch, spaCy or database driver. Heavy pieces are
imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
