"""Issue 8, finding 3: login throttling that can neither lock the owner out nor be raced.

Before: five wrong passwords from anyone locked the account for everybody (429 even on the
right password), and 40 concurrent wrong passwords ran 33 password checks against a limit of
5, because failures were counted after the check. Now an attempt is counted per
(account, address) and per address by one atomic upsert before the check. Real uvicorn
server, real concurrent HTTP clients, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from critmat.platform import security
from tests.api.auth_support import audit_rows, client_from, run_cli, served
from tests.platform_support import PASSWORD, Seeded

LOGIN = "/api/v1/auth/login"
ATTACKS = 40


def test_concurrent_wrong_passwords_run_at_most_the_limit_of_checks(seeded: Seeded) -> None:
    settings = seeded.settings
    email = seeded.users["analyst@a"]
    limit = settings.login_max_failures
    with served(settings) as url:
        checks_before = security.verifications()
        with client_from(url, "127.0.0.1") as attacker, ThreadPoolExecutor(ATTACKS) as pool:
            codes = list(
                pool.map(
                    lambda n: (
                        attacker.post(
                            LOGIN, json={"email": email, "password": f"guess {n}"}
                        ).status_code
                    ),
                    range(ATTACKS),
                )
            )
        checks = security.verifications() - checks_before
        assert set(codes) <= {401, 429}
        assert codes.count(401) == limit, codes
        assert checks == limit  # argon2 verifications actually run in the server
        assert len(audit_rows(settings, "auth.login_failed", email)) == limit

        # The owner, from another address, is not locked out by the attack ...
        with client_from(url, "127.0.0.2") as owner:
            ok = owner.post(LOGIN, json={"email": email, "password": PASSWORD})
            assert ok.status_code == 200, ok.text
        # ... while the attacking address stays throttled, even with the right password,
        with client_from(url, "127.0.0.1") as attacker:
            refused = attacker.post(LOGIN, json={"email": email, "password": PASSWORD})
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) > 0
            assert "wait" in refused.json()["hint"]
            # until an administrator unlocks the account (and that address).
            done = run_cli(settings, "users", "unlock", email, "--address", "127.0.0.1")
            assert done.returncode == 0, done.stderr
            assert f"unlocked {email}" in done.stdout
            again = attacker.post(LOGIN, json={"email": email, "password": PASSWORD})
            assert again.status_code == 200, again.text
    assert audit_rows(settings, "user.unlock")


def test_one_address_cannot_try_account_after_account(seeded: Seeded) -> None:
    """The per-address budget (4 × the per-account limit) holds across accounts."""
    settings = seeded.settings
    budget = 4 * settings.login_max_failures
    emails = sorted(seeded.users.values())
    with served(settings) as url, client_from(url, "127.0.0.3") as client:
        codes = [
            client.post(LOGIN, json={"email": emails[n % len(emails)], "password": "x"})
            for n in range(budget + 3)
        ]
    statuses = [c.status_code for c in codes]
    assert statuses[:budget] == [401] * budget
    assert statuses[budget:] == [429] * 3


def test_a_successful_login_gives_the_attempts_back(seeded: Seeded) -> None:
    """Typos before a correct password do not add up towards a lock-out."""
    settings = seeded.settings
    email = seeded.users["company@b"]
    limit = settings.login_max_failures
    with served(settings) as url, client_from(url) as client:
        for _ in range(3):
            for _ in range(limit - 1):
                wrong = client.post(LOGIN, json={"email": email, "password": "typo"})
                assert wrong.status_code == 401
            right = client.post(LOGIN, json={"email": email, "password": PASSWORD})
            assert right.status_code == 200, right.text
