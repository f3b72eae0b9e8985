"""API.md's auth and org flow over HTTP against the local stack, exactly as a client would do it."""

import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_health_discovery_and_openapi(local_stack):
    assert requests.get(local_stack.url("/health"), timeout=5).json() == {"status": "ok"}
    assert requests.get(local_stack.url("/"), timeout=5).json()["docs"] == "/openapi.json"
    assert requests.get(local_stack.url("/openapi.json"), timeout=5).json()["openapi"].startswith("3.")


def test_signup_verify_login_org_and_members_over_http(local_stack):
    s = requests.Session()
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    signup = s.post(local_stack.url("/v1/auth/signup"), json={"email": email, "password": "s3cret-pass"})
    assert signup.status_code == 201, signup.text
    assert signup.json()["email_verified"] is False

    assert (
        s.post(
            local_stack.url("/v1/auth/login"), json={"email": email, "password": "s3cret-pass"}
        ).status_code
        == 403
    )

    code = local_stack.last_code(email)  # read from the embedded SES, as README says
    verified = s.post(local_stack.url("/v1/auth/verify-email"), json={"email": email, "code": code})
    assert verified.json() == {"email_verified": True}

    tokens = s.post(
        local_stack.url("/v1/auth/login"), json={"email": email, "password": "s3cret-pass"}
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert s.get(local_stack.url("/v1/users/me"), headers=auth).json()["email"] == email

    org = s.post(local_stack.url("/v1/orgs"), json={"name": "Acme"}, headers=auth)
    assert org.status_code == 201
    org_id = org.json()["id"]
    invitee = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    invited = s.post(
        local_stack.url(f"/v1/orgs/{org_id}/members"), json={"email": invitee, "role": "user"}, headers=auth
    )
    assert invited.status_code == 201
    assert local_stack.emails_to(invitee), "the invitation was emailed"

    s.post(local_stack.url("/v1/auth/signup"), json={"email": invitee, "password": "another-pass"})
    members = s.get(local_stack.url(f"/v1/orgs/{org_id}/members"), headers=auth).json()["items"]
    assert sorted(m["role"] for m in members) == ["admin", "user"]

    rotated = s.post(local_stack.url("/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    assert (
        s.post(
            local_stack.url("/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
        ).status_code
        == 401
    )
    assert (
        s.post(
            local_stack.url("/v1/auth/logout"), json={"refresh_token": rotated.json()["refresh_token"]}
        ).status_code
        == 204
    )


def test_errors_have_chalices_shape_over_http(local_stack):
    reply = requests.post(local_stack.url("/v1/auth/signup"), data=b"{oops", timeout=5)
    assert reply.status_code == 400
    assert reply.json() == {"Code": "BadRequestError", "Message": "body: is not valid JSON"}
    assert reply.headers["X-Request-Id"]


def test_concurrent_requests_each_see_their_own_caller_and_body(local_stack):
    """Chalice keeps the current request on the app object; the local stack must not mix them."""
    from concurrent.futures import ThreadPoolExecutor

    owners = []
    for _ in range(3):
        email = f"c-{uuid.uuid4().hex[:8]}@example.com"
        requests.post(
            local_stack.url("/v1/auth/signup"), json={"email": email, "password": "password-1"}, timeout=10
        )
        code = local_stack.last_code(email)
        requests.post(
            local_stack.url("/v1/auth/verify-email"), json={"email": email, "code": code}, timeout=10
        )
        login = requests.post(
            local_stack.url("/v1/auth/login"), json={"email": email, "password": "password-1"}, timeout=10
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        org = requests.post(
            local_stack.url("/v1/orgs"), json={"name": email}, headers=auth, timeout=10
        ).json()
        owners.append((email, auth, org["id"]))

    def rename(job):
        (email, auth, org_id), round_ = job
        name = f"{email} round {round_}"
        reply = requests.patch(
            local_stack.url(f"/v1/orgs/{org_id}"), json={"name": name}, headers=auth, timeout=10
        )
        return name, reply.status_code, reply.json().get("name")

    jobs = [(owner, round_) for round_ in range(8) for owner in owners]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(rename, jobs))
    assert all(status == 200 and sent == answered for sent, status, answered in answers), answers
