"""The tamper-evident log: RFC 6962 Merkle hashing and proofs (``merkle``), bulk SHA-256
(``sha256_batch``), the SQLite-backed log with signed heads, records and bundles (``log``).
Imports nothing of the mining model."""
