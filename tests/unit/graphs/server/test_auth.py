"""The auth handler's decisions, called in-process (the server test is test_security.py)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from langgraph_sdk import Auth
from starlette.authentication import BaseUser

import graphs.server.access
from graphs.server.access import OPERATOR, STUDIO_IDENTITY, Access
from graphs.server.auth import (
    ServerUser,
    authenticate,
    owned_assistants,
    owned_by_caller,
    owned_crons,
    presented_key,
    scope_store,
)

ALICE = "a" * 16


@dataclass
class User:
    identity: str
    permissions: list[str] = field(default_factory=list)
    is_authenticated: bool = True
    display_name: str = ""


def ctx(resource: str, action: str, identity: str = "alice", permissions: Any = ()) -> Any:
    return Auth.types.AuthContext(
        resource=resource,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        user=User(identity),  # type: ignore[arg-type]
        permissions=list(permissions),
    )


@pytest.fixture
def keyed(use_keys) -> None:
    use_keys(f"alice:{ALICE},bob:{'b' * 16}")


def refused(excinfo: pytest.ExceptionInfo[Auth.exceptions.HTTPException], code: int) -> str:
    assert excinfo.value.status_code == code
    return str(excinfo.value.detail)


async def test_open_mode_is_the_local_user_and_unfiltered(monkeypatch):
    monkeypatch.setattr(graphs.server.access, "ACCESS", Access())
    assert (await authenticate({}))["identity"] == "local"
    value: dict[str, Any] = {"metadata": {"owner": "anyone"}}
    assert await owned_by_caller(ctx("threads", "create", "local"), value) is None


async def test_keys_and_studio_header(keyed, monkeypatch):
    assert (await authenticate({b"x-api-key": ALICE.encode()}))["identity"] == "alice"
    assert (await authenticate({b"authorization": b"Bearer " + ALICE.encode()}))[
        "identity"
    ] == "alice"
    for headers in ({}, {b"x-auth-scheme": b"langsmith"}, {b"x-api-key": b"x" * 20}):
        with pytest.raises(Auth.exceptions.HTTPException) as err:
            await authenticate(headers)
        refused(err, 401)
    studio = Access(keys=graphs.server.access.ACCESS.keys, studio=True)
    monkeypatch.setattr(graphs.server.access, "ACCESS", studio)
    user = await authenticate({b"x-auth-scheme": b"langsmith"})
    assert user == {"identity": STUDIO_IDENTITY, "permissions": [OPERATOR]}


async def test_threads_and_runs_are_stamped_and_filtered(keyed):
    value: dict[str, Any] = {"metadata": None}
    assert await owned_by_caller(ctx("threads", "create"), value) == {"owner": "alice"}
    assert value["metadata"] == {"owner": "alice"}
    run: dict[str, Any] = {"metadata": {"x": 1}, "kwargs": {}}
    assert await owned_by_caller(ctx("threads", "create_run"), run) == {"owner": "alice"}
    assert run["metadata"] == {"x": 1, "owner": "alice"}
    # A search's metadata is a filter, not a claim.
    assert await owned_by_caller(ctx("threads", "search"), {"metadata": {"owner": "bob"}}) == {
        "owner": "alice"
    }


@pytest.mark.parametrize("action", ["create", "update", "create_run"])
async def test_owner_is_set_by_the_server_alone(keyed, action):
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_by_caller(ctx("threads", action), {"metadata": {"owner": "bob"}})
    assert "metadata.owner is set by the server" in refused(err, 403)


async def test_assistants_owned_and_the_deployed_ones_read_only(keyed):
    value: dict[str, Any] = {"graph_id": "memory_manager"}
    assert await owned_assistants(ctx("assistants", "create"), value) == {"owner": "alice"}
    assert value["metadata"] == {"owner": "alice"}
    assert await owned_assistants(ctx("assistants", "read"), {}) == {
        "$or": [{"owner": "alice"}, {"created_by": "system"}]
    }
    assert await owned_assistants(ctx("assistants", "update"), {}) == {"owner": "alice"}
    assert await owned_assistants(ctx("assistants", "delete"), {}) == {"owner": "alice"}
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_assistants(ctx("assistants", "create"), {"metadata": {"created_by": "system"}})
    assert "created_by" in refused(err, 403)


@pytest.mark.parametrize(
    "payload",
    [
        {"config": {"configurable": {"langgraph_auth_user_id": "bob"}}},
        {"context": {"langgraph_auth_user": {"identity": "bob"}}},
        {"metadata": {"owner": "bob"}},
    ],
)
async def test_a_cron_may_not_pose_as_anyone(keyed, payload):
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_crons(ctx("crons", "create"), {"payload": payload, "metadata": {}})
    refused(err, 403)


async def test_crons_are_stamped_and_filtered(keyed):
    value: dict[str, Any] = {"payload": {"context": {"namespace": ["m"]}}, "metadata": {}}
    assert await owned_crons(ctx("crons", "create"), value) == {"owner": "alice"}
    assert value["metadata"] == {"owner": "alice"}
    assert await owned_crons(ctx("crons", "search"), {"metadata": {"owner": "x"}}) == {
        "owner": "alice"
    }


async def test_store_namespaces_are_prefixed(keyed):
    value: dict[str, Any] = {"namespace": ("memories", "bob")}
    await scope_store(ctx("store", "put"), value)
    assert value["namespace"] == ("alice", "memories", "bob")


async def test_operator_is_unrestricted_and_strangers_refused(keyed):
    value: dict[str, Any] = {"namespace": ("memories",)}
    await scope_store(ctx("store", "get", STUDIO_IDENTITY, [OPERATOR]), value)
    assert value["namespace"] == ("memories",)
    assert await owned_by_caller(ctx("threads", "read", STUDIO_IDENTITY, [OPERATOR]), {}) is None
    # A cron run whose creator's key was removed since: no identity, no access.
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_by_caller(ctx("threads", "create_run", "mallory"), {})
    refused(err, 403)


def internal(identity: bytes | None, secret: str | None = None) -> dict[bytes, bytes]:
    """Headers of the server's own request (the redeliverer's) acting for ``identity``."""
    headers = {
        graphs.server.access.INTERNAL_HEADER.encode(): (
            secret or graphs.server.access.INTERNAL_SECRET
        ).encode()
    }
    if identity is not None:
        headers[graphs.server.access.AS_HEADER.encode()] = identity
    return headers


async def test_the_servers_own_requests_act_for_the_owner_they_name(keyed):
    assert await authenticate(internal(b"bob")) == {"identity": "bob", "permissions": []}
    assert await authenticate({**internal(b"alice"), b"x-api-key": b"b" * 16}) == {
        "identity": "alice",
        "permissions": [],
    }


@pytest.mark.parametrize(
    "identity", [b"carol", None, b"\xffalice"], ids=["unknown", "none", "not utf-8"]
)
async def test_the_servers_own_requests_name_a_known_identity(keyed, identity):
    with pytest.raises(Auth.exceptions.HTTPException) as info:
        await authenticate(internal(identity))
    assert refused(info, 401) == "unknown identity"


async def test_a_wrong_internal_secret_is_an_ordinary_request(keyed):
    forged = internal(b"alice", secret="x" * 43)
    with pytest.raises(Auth.exceptions.HTTPException) as info:
        await authenticate(forged)
    assert refused(info, 401).startswith("missing API key")
    assert (await authenticate({**forged, b"x-api-key": b"b" * 16}))["identity"] == "bob"


async def test_in_open_mode_the_servers_own_requests_are_the_local_user(monkeypatch):
    monkeypatch.setattr(graphs.server.access, "ACCESS", Access())
    assert await authenticate(internal(b"alice")) == {"identity": "local", "permissions": []}


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({b"authorization": b"Bearer tok en"}, "tok en"),
        ({b"authorization": b"bearer  tok "}, "tok"),
        ({b"authorization": b"Basic tok"}, None),
        ({b"authorization": b"Bearer "}, None),
        ({b"authorization": b"Bearer \xff"}, "\ufffd"),
        ({b"x-api-key": b"k\xff", b"authorization": b"Bearer other"}, "k\ufffd"),
    ],
)
def test_the_key_a_request_presents(headers, key):
    assert presented_key(headers) == key


async def test_a_run_whose_identity_lost_its_key_is_refused(keyed):
    with pytest.raises(Auth.exceptions.HTTPException) as info:
        await owned_by_caller(ctx("threads", "read", "carol"), {})
    assert refused(info, 403) == "no API-key identity"


async def test_only_an_assistants_created_by_is_the_servers(keyed):
    value: dict[str, Any] = {"metadata": {"created_by": "me"}}
    assert await owned_by_caller(ctx("threads", "create"), value) == {"owner": "alice"}
    assert value["metadata"] == {"created_by": "me", "owner": "alice"}


async def test_refusals_say_which_field_the_server_sets(keyed):
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_by_caller(ctx("threads", "create"), {"metadata": {"owner": "bob"}})
    assert refused(err, 403) == "metadata.owner is set by the server; leave it out"
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_assistants(ctx("assistants", "create"), {"metadata": {"created_by": "x"}})
    assert refused(err, 403) == "metadata.created_by is set by the server; leave it out"
    payload = {"config": {"configurable": {"langgraph_auth_user_id": "bob"}}}
    with pytest.raises(Auth.exceptions.HTTPException) as err:
        await owned_crons(ctx("crons", "create"), {"payload": payload, "metadata": {}})
    assert refused(err, 403) == (
        "cron payload: 'langgraph_auth_user_id' is set by the server; leave it out"
    )


@pytest.mark.parametrize("configurable", [None, ["langgraph_auth_user_id"]])
async def test_a_configurable_that_is_no_object_is_left_to_the_servers_checks(keyed, configurable):
    value: dict[str, Any] = {"payload": {"config": {"configurable": configurable}}, "metadata": {}}
    assert await owned_crons(ctx("crons", "create"), value) == {"owner": "alice"}


async def test_the_user_is_stored_as_plain_json_by_any_runtime(keyed):
    """The Postgres runtime writes the user into each run's config with stdlib ``json``.

    langgraph-api keeps a ``BaseUser`` as it is and wraps anything else in its
    ``ProxyUser``, which ``json`` cannot encode (every run creation failed on that
    runtime); ours is a ``BaseUser`` and a dict, so it encodes as the dict it is and the
    worker rebuilds the user from that. The scale-out suite creates runs with keys on.
    """
    user = await authenticate({b"x-api-key": ALICE.encode()})
    assert isinstance(user, BaseUser) and isinstance(user, dict)
    assert (user.identity, user.display_name, user.is_authenticated) == ("alice", "alice", True)
    plain = {"identity": "alice", "permissions": []}
    assert json.loads(json.dumps({"user": user}))["user"] == plain
    assert json.loads(orjson.dumps(user)) == plain
    assert copy.deepcopy(user) == user and isinstance(copy.deepcopy(user), ServerUser)
    studio = ServerUser(STUDIO_IDENTITY, [OPERATOR])
    assert studio == {"identity": STUDIO_IDENTITY, "permissions": [OPERATOR]}
