"""`skillpass demo`: a whole registry, issuance and verification flow on one machine."""
