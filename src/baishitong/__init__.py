"""百事通 Baishitong — government service request platform."""

__version__ = "0.1.0"
