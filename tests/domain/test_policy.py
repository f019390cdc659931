"""The permission policy as plain functions: the table, the requester rule, the words of refusals."""

from __future__ import annotations

from domain.policy import POLICY, Deed, Party, Role, may, roles_of, who_may

MEASURE = Party(owner_id="U0O", sponsor_id="U0S", controller_id="U0C")


def test_every_deed_has_a_row_and_someone_may_do_it() -> None:
    assert set(POLICY) == set(Deed) and all(POLICY[deed] for deed in Deed)


def test_roles_come_from_the_party_and_the_admin_flag() -> None:
    assert roles_of("U0O", admin=False, party=MEASURE) == {Role.ANYONE, Role.OWNER}
    assert roles_of("U0X", admin=True, party=MEASURE) == {Role.ANYONE, Role.ADMIN}
    assert roles_of("U0X", admin=False) == {Role.ANYONE}


def test_edit_and_configuration() -> None:
    assert [may(Deed.EDIT, u, admin=False, party=MEASURE) for u in ("U0O", "U0S", "U0C", "U0X")] == [True] * 3 + [False]
    assert may(Deed.EDIT, "U0X", admin=True, party=MEASURE)
    assert not may(Deed.CONFIGURE_DIGEST, "U0O", admin=False, party=MEASURE)
    assert may(Deed.CONFIGURE_DIGEST, "U0X", admin=True)
    assert may(Deed.PROPOSE, "U0X", admin=False)


def test_nobody_decides_their_own_request_not_even_an_approving_admin() -> None:
    request = Party(owner_id="U0O", sponsor_id="U0S", approver_ids=frozenset({"U0S", "U0D"}), requester_id="U0S")
    assert not may(Deed.DECIDE, "U0S", admin=True, party=request)
    assert may(Deed.DECIDE, "U0D", admin=False, party=request)  # the delegate
    assert not may(Deed.DECIDE, "U0A", admin=True, party=request)  # admins do not approve


def test_who_may_says_the_table_in_words() -> None:
    assert who_may(Deed.EDIT, of="M-1") == "the owner, sponsor or controller of M-1, or an admin"
    assert who_may(Deed.RESOLVE, of="M-1") == "the sponsor of M-1, or an admin"
    assert who_may(Deed.CONFIGURE_RULES) == "admins"
    assert who_may(Deed.PROPOSE) == "anyone"
