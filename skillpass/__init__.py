"""skillpass: electronic vocational skill level certificates as signed QR credentials."""

__version__ = "0.1.0"
