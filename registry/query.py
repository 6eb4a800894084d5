"""The national query system: published certificates by number + name or by name + ID number.

A wrong name, a wrong number and a missing certificate all answer the same ``not_found``; the ID
number is compared only through its keyed digest.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import Connection, bindparam, select

from registry.audit import Digests
from registry.batches import PUBLISHED, certificate_json
from registry.certificates import status_detail
from registry.db import Database
from registry.errors import RegistryError
from registry.models import QueryIn
from registry.schema import batches, institutions, rows
from schemas import normalise_name

_PUBLISHED = (
    select(rows, batches.c.institution_code, institutions.c.name.label("institution_name"))
    .join(batches, rows.c.batch_pk == batches.c.id)
    .join(institutions, batches.c.institution_code == institutions.c.code)
    .where(rows.c.state == PUBLISHED)
)
# Built once: building a statement costs more than the database's index look-up it runs.
_BY_NUMBER = _PUBLISHED.where(rows.c.certificate_number == bindparam("number"))
_BY_DIGEST = _PUBLISHED.where(rows.c.id_digest == bindparam("digest")).order_by(rows.c.issue_date)


def _answer(found: list[Any]) -> dict[str, Any]:
    if not found:
        raise RegistryError("not_found", "certificate")
    return {
        "certificates": [
            {
                "certificate": certificate_json(r, r.institution_code, r.institution_name),
                "institution": {"code": r.institution_code, "name": r.institution_name},
                "status": r.status,
                **status_detail(r),
            }
            for r in found
        ]
    }


def answer(db: Database, body: QueryIn, digests: Digests) -> dict[str, Any]:
    """The public query's answer (``POST /api/v1/certificates/query``): by number + name, or by name
    + ID number, exactly one of the two."""
    if (body.certificate_number is None) == (body.id_number is None):
        raise RegistryError("invalid_request", "give certificate_number or id_number, not both")
    with db.read() as conn:
        if body.certificate_number is not None:
            return by_number(conn, body.certificate_number, body.holder_name)
        assert body.id_number is not None
        return by_holder(conn, body.holder_name, body.id_number, digests)


def by_number(conn: Connection, number: str, holder_name: str) -> dict[str, Any]:
    """The certificate with this number, if it is the named holder's."""
    name = normalise_name(holder_name.strip())
    found = conn.execute(_BY_NUMBER, {"number": number}).all()
    return _answer([r for r in found if hmac.compare_digest(r.holder_name.encode(), name.encode())])


def by_holder(conn: Connection, holder_name: str, id_number: str, digests: Digests) -> dict[str, Any]:
    """Every published certificate of the holder with this name and ID number."""
    name = normalise_name(holder_name.strip())
    found = conn.execute(_BY_DIGEST, {"digest": digests.id_number(id_number)}).all()
    return _answer([r for r in found if r.holder_name == name])


_HOLDER = select(rows.c.id_digest, rows.c.holder_name).where(
    rows.c.certificate_number == bindparam("number"), rows.c.state == PUBLISHED
)


def confirm_holder(conn: Connection, number: str, holder_name: str, id_number: str, digests: Digests) -> bool:
    """Whether the person named is the holder of this certificate (False also when it does not exist)."""
    row = conn.execute(_HOLDER, {"number": number}).first()
    if row is None:
        return False
    same_id = hmac.compare_digest(row.id_digest, digests.id_number(id_number))
    return same_id and row.holder_name == normalise_name(holder_name.strip())
