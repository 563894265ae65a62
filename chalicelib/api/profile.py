"""The caller's own profile and account security: name, language, avatar, password, active
sessions and two-factor sign-in.  Every route acts on the signed-in person only (an API key
gets 403 `not_a_person`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.routing import Call, operation
from chalicelib.lazy import lazy_module
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.accounts.model import User
    from chalicelib.api.schemas import (
        AvatarUploadIn,
        AvatarUploadOut,
        PasswordChangeIn,
        ProfileOut,
        ProfilePatchIn,
        RecoveryCodesOut,
        SessionsOut,
        SignedOutOut,
        TwoFactorCodeIn,
        TwoFactorDisableIn,
        TwoFactorEnrolmentOut,
        TwoFactorOut,
    )

schemas = lazy_module("chalicelib.api.schemas")
profile = lazy_module("chalicelib.accounts.profile")
two_factor = lazy_module("chalicelib.accounts.two_factor")
bp = Blueprint(__name__)
TAG = "profile"


def _two_factor_out(call: Call, user: User) -> TwoFactorOut:
    state = two_factor.status(bootstrap.account_deps(), call.member, user)
    return schemas.TwoFactorOut(
        enabled=state.enabled,
        enabled_at=state.enabled_at,
        recovery_codes_left=state.recovery_codes_left,
        required_by_workspace=state.required_by_workspace,
    )


def _profile_out(call: Call, user: User) -> ProfileOut:
    url = profile.avatar_url(get_settings().public_base_url, user)
    return schemas.ProfileOut.of(user, url, _two_factor_out(call, user))


@operation(
    bp,
    "GET",
    "/v1/me/profile",
    summary="Your profile: name, language, avatar, and two-factor sign-in",
    tag=TAG,
    response="ProfileOut",
    errors=(401, 403),
)
def get_profile(call: Call) -> ProfileOut:
    return _profile_out(call, profile.my_profile(bootstrap.account_deps(), call.member))


@operation(
    bp,
    "PATCH",
    "/v1/me/profile",
    summary="Change your name, language or avatar",
    description="`name` is changed wherever you are a member. `locale` is the language of "
    "the app and of the mail Helptal sends you. `avatar`: the name `POST /v1/me/avatar` "
    "gave, once the image is uploaded; `null` removes the avatar. A field left out is kept.",
    tag=TAG,
    body="ProfilePatchIn",
    response="ProfileOut",
    errors=(400, 401, 403, 422),
)
def patch_profile(call: Call) -> ProfileOut:
    body: ProfilePatchIn = call.body
    user = profile.update_profile(
        bootstrap.account_deps(),
        call.member,
        name=body.name,
        locale=body.locale,
        avatar=body.avatar,
        remove_avatar="avatar" in body.model_fields_set and body.avatar is None,
    )
    return _profile_out(call, user)


@operation(
    bp,
    "POST",
    "/v1/me/avatar",
    summary="Start an avatar upload: a presigned S3 POST (PNG, JPEG, GIF, WebP; at most 1 MB)",
    description="POST the `fields`, then the file as `file`, to `upload_url` (S3 refuses "
    "another type or a bigger file), then set `avatar` with `PATCH /v1/me/profile`.",
    tag=TAG,
    body="AvatarUploadIn",
    response="AvatarUploadOut",
    status=201,
    errors=(400, 401, 403, 413, 422),
)
def start_avatar_upload(call: Call) -> AvatarUploadOut:
    body: AvatarUploadIn = call.body
    upload = profile.start_avatar_upload(
        bootstrap.account_deps(),
        bootstrap.avatar_images(),
        call.member,
        body.content_type,
        body.size,
    )
    return schemas.AvatarUploadOut(
        upload_url=upload.upload_url,
        fields=upload.fields,
        avatar=upload.avatar,
        max_bytes=upload.max_bytes,
        expires_at=upload.expires_at,
    )


@operation(
    bp,
    "GET",
    "/v1/users/{user_id}/avatar/{name}",
    summary="A person's avatar (redirects to a link valid for an hour)",
    tag=TAG,
    status=302,
    auth=False,
    errors=(404,),
)
def avatar(call: Call) -> Response:
    url = profile.avatar_link(
        bootstrap.avatar_images(), call.params["user_id"], call.params["name"]
    )
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Cache-Control": "private, max-age=1800"},
    )


@operation(
    bp,
    "POST",
    "/v1/me/password",
    summary="Change your password (your other sessions are signed out)",
    description="The current password is checked as at login (its attempts are counted: 429 "
    "`login_throttled`); a wrong one answers 422 `invalid_password`; the new one follows the "
    "sign-up rules (422 `weak_password`). The session used stays open.",
    tag=TAG,
    body="PasswordChangeIn",
    response="SignedOutOut",
    errors=(400, 401, 403, 409, 422, 429),
)
def change_password(call: Call) -> SignedOutOut:
    body: PasswordChangeIn = call.body
    count = profile.change_password(
        bootstrap.account_deps(), call.member, body.current_password, body.new_password
    )
    return schemas.SignedOutOut(signed_out=count)


@operation(
    bp,
    "GET",
    "/v1/me/sessions",
    summary="Your open sessions, newest first, the one in use flagged `current`",
    tag=TAG,
    response="SessionsOut",
    errors=(401, 403),
)
def list_sessions(call: Call) -> SessionsOut:
    found = profile.list_sessions(bootstrap.account_deps(), call.member)
    return schemas.SessionsOut(
        sessions=[
            schemas.SessionOut(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                client=s.client,
                current=s.current,
            )
            for s in found
        ]
    )


@operation(
    bp,
    "DELETE",
    "/v1/me/sessions/{session_id}",
    summary="Sign one of your sessions out",
    tag=TAG,
    status=204,
    errors=(401, 403, 404),
)
def sign_out_session(call: Call) -> None:
    profile.sign_out_session(bootstrap.account_deps(), call.member, call.params["session_id"])


@operation(
    bp,
    "DELETE",
    "/v1/me/sessions",
    summary="Sign out every other session of yours (the one in use stays)",
    tag=TAG,
    response="SignedOutOut",
    errors=(401, 403),
)
def sign_out_other_sessions(call: Call) -> SignedOutOut:
    count = profile.sign_out_other_sessions(bootstrap.account_deps(), call.member)
    return schemas.SignedOutOut(signed_out=count)


@operation(
    bp,
    "GET",
    "/v1/me/two-factor",
    summary="Whether two-factor sign-in is on, and recovery codes left",
    tag=TAG,
    response="TwoFactorOut",
    errors=(401, 403),
)
def get_two_factor(call: Call) -> TwoFactorOut:
    return _two_factor_out(call, two_factor.person(bootstrap.account_deps(), call.member))


@operation(
    bp,
    "POST",
    "/v1/me/two-factor",
    summary="Start turning two-factor sign-in on: a secret for an authenticator app",
    description="Show `qr_code` (an SVG `data:` URI for an `<img>`: the `otpauth_uri` as a QR "
    "code), or the `secret` to type in. Nothing "
    "changes at login until `POST /v1/me/two-factor/confirm` receives a code of it. Asking "
    "again replaces an unconfirmed secret; 409 `two_factor_already_on` once it is on.",
    tag=TAG,
    response="TwoFactorEnrolmentOut",
    status=201,
    errors=(401, 403, 409),
)
def start_two_factor(call: Call) -> TwoFactorEnrolmentOut:
    enrolment = two_factor.start_enrolment(bootstrap.account_deps(), call.member)
    return schemas.TwoFactorEnrolmentOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_code=enrolment.qr_code
    )


@operation(
    bp,
    "POST",
    "/v1/me/two-factor/confirm",
    summary="Turn two-factor sign-in on with a code from the app; answers 10 recovery codes",
    description="The recovery codes are shown this once (only their hashes are kept); each "
    "opens one login instead of a code. A wrong code answers 422 `invalid_two_factor_code` "
    "(attempts are counted: 429 `login_throttled`).",
    tag=TAG,
    body="TwoFactorCodeIn",
    response="RecoveryCodesOut",
    errors=(400, 401, 403, 409, 422, 429),
)
def confirm_two_factor(call: Call) -> RecoveryCodesOut:
    body: TwoFactorCodeIn = call.body
    recovery = two_factor.confirm_enrolment(bootstrap.account_deps(), call.member, body.code)
    return schemas.RecoveryCodesOut(recovery_codes=recovery)


@operation(
    bp,
    "POST",
    "/v1/me/two-factor/recovery-codes",
    summary="Replace your recovery codes (a current code proves it is you)",
    tag=TAG,
    body="TwoFactorCodeIn",
    response="RecoveryCodesOut",
    errors=(400, 401, 403, 409, 422, 429),
)
def new_recovery_codes(call: Call) -> RecoveryCodesOut:
    body: TwoFactorCodeIn = call.body
    recovery = two_factor.new_recovery_codes(bootstrap.account_deps(), call.member, body.code)
    return schemas.RecoveryCodesOut(recovery_codes=recovery)


@operation(
    bp,
    "DELETE",
    "/v1/me/two-factor",
    summary="Turn two-factor sign-in off (with a current code or your password)",
    description="Refused with 409 `two_factor_required_here` while the workspace requires it.",
    tag=TAG,
    body="TwoFactorDisableIn",
    status=204,
    errors=(400, 401, 403, 409, 422, 429),
)
def disable_two_factor(call: Call) -> None:
    body: TwoFactorDisableIn = call.body
    two_factor.disable(bootstrap.account_deps(), call.member, body.code, body.password)
