"""The caller's context as keystonemiddleware describes it: identity, token, catalog, region, expiry."""

from __future__ import annotations

import json

from mistral.api import hooks

CATALOG = [
    {"type": "identity", "name": "keystone", "endpoints": [{"interface": "public", "url": "http://k"}]}
]
TOKEN_INFO = {"token": {"methods": ["password"], "expires_at": "2026-11-29T16:00:00.000000Z"}}


def test_catalog_region_and_expiry_come_from_keystonemiddleware() -> None:
    headers = {
        "X-Project-Id": "p1",
        "X-User-Id": "u1",
        "X-Auth-Token": "tok",
        "X-Roles": "member, reader",
        "X-Service-Catalog": json.dumps(CATALOG),
        "X-Region-Name": "RegionOne",
    }
    ctx = hooks.context_from_headers(headers, TOKEN_INFO)
    # keystoneclient's ServiceCatalog.factory (what mistral-extra calls) needs a v3 token body.
    assert ctx.service_catalog == {"methods": ["password"], "catalog": CATALOG}
    assert (ctx.region_name, ctx.expires_at) == ("RegionOne", "2026-11-29T16:00:00.000000Z")
    assert ctx.credentials() == {
        "auth_token": "tok",
        "service_catalog": {"methods": ["password"], "catalog": CATALOG},
        "region_name": "RegionOne",
        "expires_at": "2026-11-29T16:00:00.000000Z",
    }


def test_a_missing_or_bad_catalog_header_is_no_catalog() -> None:
    assert hooks.context_from_headers({"X-Auth-Token": "tok"}).service_catalog is None
    for bad in ("not json", json.dumps({"a": 1})):
        assert hooks.context_from_headers({"X-Service-Catalog": bad}).service_catalog is None
    # Without token data the catalog still counts, as a token-authenticated one.
    ctx = hooks.context_from_headers({"X-Service-Catalog": json.dumps(CATALOG)})
    assert ctx.service_catalog == {"methods": ["token"], "catalog": CATALOG}
