"""Schemas and validation for certificates, roster rows and institution records.

``validate_*`` return every problem at once as ``Issue`` objects (JSON pointer, stable code, zh-CN and English
message); ``require_valid_*`` raise ``SchemaError`` carrying the same list. The JSON Schema 2020-12 files ship
inside this package (``load_schema``); ``checks`` and ``names`` hold the pure identifier and name rules.
"""

from __future__ import annotations

from schemas.certno import CertificateNumber, parse_certificate_number
from schemas.checks import (
    occupation_code_is_valid,
    resident_id_check_char,
    resident_id_is_valid,
    uscc_check_char,
    uscc_is_valid,
)
from schemas.errors import CertificateNumberError, CheckInputError, SchemaError, SchemasError
from schemas.issues import MESSAGES, Issue
from schemas.names import name_is_valid, normalise_name
from schemas.structure import load_schema
from schemas.validate import (
    require_valid_certificate,
    require_valid_institution,
    require_valid_roster_row,
    validate_certificate,
    validate_institution,
    validate_roster_row,
)
from schemas.vocabulary import ID_TYPES, LEVEL_NAMES, LEVEL_NAMES_EN

__all__ = [
    "ID_TYPES",
    "LEVEL_NAMES",
    "LEVEL_NAMES_EN",
    "MESSAGES",
    "CertificateNumber",
    "CertificateNumberError",
    "CheckInputError",
    "Issue",
    "SchemaError",
    "SchemasError",
    "load_schema",
    "name_is_valid",
    "normalise_name",
    "occupation_code_is_valid",
    "parse_certificate_number",
    "require_valid_certificate",
    "require_valid_institution",
    "require_valid_roster_row",
    "resident_id_check_char",
    "resident_id_is_valid",
    "uscc_check_char",
    "uscc_is_valid",
    "validate_certificate",
    "validate_institution",
    "validate_roster_row",
]
