"""Signing in and out, the console's home page, and the password change.

The sign-in form is protected against login CSRF by a double-submit token: a random value in a
``SameSite=Strict`` cookie that the form must repeat. Cookies are HttpOnly, SameSite=Strict, scoped
to ``/console``, and Secure whenever the request came over TLS (``X-Forwarded-Proto`` from the
proxy, which ``registry serve`` trusts).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from registry.console import accounts, layout, sessions
from registry.console.accounts import STAFF_ROLES
from registry.console.kit import (
    HEADERS,
    NAV,
    PREFIX,
    SESSION_COOKIE,
    Action,
    NavItem,
    Viewer,
    add_nav,
    console_router,
    error_page,
    form,
    link,
    page_lang,
    redirect,
    registry_of,
    render,
)
from registry.console.sessions import Session
from registry.deps import within_rate_limit
from registry.errors import RegistryError
from registry.templates.markup import Safe, fill, join

router = console_router()
LOGIN_COOKIE: Final = "skillpass_console_login"
FormText = Annotated[str, Form()]

add_nav(NavItem(f"{PREFIX}/", "首页", "Home", STAFF_ROLES))
add_nav(NavItem(f"{PREFIX}/password", "修改密码", "Password", STAFF_ROLES))

_TEXT: Final = {
    "zh": {
        "title": "登录",
        "username": "用户名",
        "password": "密码",
        "submit": "登录",
        "intro": "评价管理控制台仅供职业技能鉴定中心工作人员使用，请使用本人账号登录。",
        "current": "当前密码",
        "new": "新密码（12 至 256 个字符）",
        "repeat": "再次输入新密码",
        "change": "修改密码",
        "changed": "密码已修改，其他设备上的登录已退出。",
        "welcome": "欢迎，{name}。请选择要处理的事项：",
    },
    "en": {
        "title": "Sign in",
        "username": "User name",
        "password": "Password",
        "submit": "Sign in",
        "intro": "The appraisal console is for the appraisal centre's staff; sign in with your own account.",
        "current": "Current password",
        "new": "New password (12 to 256 characters)",
        "repeat": "New password again",
        "change": "Change password",
        "changed": "Password changed; your other sessions are signed out.",
        "welcome": "Welcome, {name}. What would you like to do?",
    },
}


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    """Every console cookie: HttpOnly, SameSite=Strict, scoped to /console, Secure over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.scope.get("scheme") == "https",
    )


def _next(path: str) -> str:
    """Where to go after signing in: only a console path on this site."""
    if path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path and len(path) < 200:
        return path
    return f"{PREFIX}/"


def _login_page(request: Request, token: str, next_path: str, error: RegistryError | None) -> HTMLResponse:
    lang = page_lang(request)
    words = _TEXT[lang]
    message = Safe("")
    if error is not None:
        message = layout.notice("error", error.message_zh if lang == "zh" else error.message_en)
    body = fill(
        """<p>{intro}</p>{message}
<form method="post" class="stack" action="{action}">
<input type="hidden" name="csrf_token" value="{token}">
<input type="hidden" name="next" value="{next}">
<label for="username">{username}</label><input id="username" name="username" autocomplete="username" required>
<label for="password">{password}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{submit}</button>
</form>""",
        intro=words["intro"],
        message=message,
        action=link(request, f"{PREFIX}/login"),
        token=token,
        next=next_path,
        **{k: words[k] for k in ("username", "password", "submit")},
    )
    text = layout.console_page(lang, words["title"], body, request.url.path, [], None, Safe(""))
    status = 200 if error is None else error.status
    response = HTMLResponse(text, status, headers=HEADERS)
    set_cookie(response, request, LOGIN_COOKIE, token, None)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "") -> HTMLResponse:
    """The sign-in form (with a fresh login CSRF token)."""
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    return _login_page(request, token[:64], _next(next), None)


@router.post("/login")
def login(
    request: Request,
    username: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next: FormText = "",
) -> Response:
    """Check the password; on success start a session and go where the person was going."""
    reg = registry_of(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    fresh = secrets.token_urlsafe(32)
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return _login_page(request, fresh, _next(next), RegistryError("csrf_failed"))
    if not within_rate_limit(reg, request):
        return _login_page(request, cookie, _next(next), RegistryError("rate_limited"))
    now = reg.now()

    def work(conn: Connection) -> tuple[accounts.Account | str, str]:
        found = accounts.sign_in(conn, username.strip()[:64], password, now)
        if isinstance(found, str):
            return found, ""
        return found, sessions.start(conn, found, now)

    found, token = reg.db.write(work)
    if isinstance(found, str):
        return _login_page(request, cookie, _next(next), RegistryError(found))
    response = redirect(request, _next(next))
    set_cookie(response, request, SESSION_COOKIE, token, sessions.MAX_AGE)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
def logout(request: Request, who: Annotated[Session, Action(*STAFF_ROLES)]) -> Response:
    """End the session."""
    reg = registry_of(request)
    now = reg.now()

    def work(conn: Connection) -> None:
        sessions.end(conn, who.digest, now)

    reg.db.write(work)
    response = redirect(request, f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/")
def home(request: Request, who: Annotated[Session, Viewer(*STAFF_ROLES)]) -> HTMLResponse:
    """Links to what this person's role may do."""
    lang = page_lang(request)
    cards = join(
        fill(
            '<a href="{u}">{label}</a>',
            u=link(request, n.path),
            label=n.label_zh if lang == "zh" else n.label_en,
        )
        for n in NAV
        if who.account.role in n.roles and n.path != f"{PREFIX}/"
    )
    body = fill(
        '<p>{welcome}</p><div class="cards">{cards}</div>',
        welcome=_TEXT[lang]["welcome"].format(name=who.account.username),
        cards=cards,
    )
    return render(request, who, "评价管理控制台", "Appraisal console", body)


def _password_form(request: Request, who: Session, notice: Safe) -> Safe:
    words = _TEXT[page_lang(request)]
    fields = fill(
        """<label for="current">{current}</label><input id="current" name="current" type="password" autocomplete="current-password" required>
<label for="new">{new}</label><input id="new" name="new" type="password" autocomplete="new-password" minlength="12" required>
<label for="repeat">{repeat}</label><input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength="12" required>""",
        **{k: words[k] for k in ("current", "new", "repeat")},
    )
    return join([notice, form(request, who, f"{PREFIX}/password", fields, words["change"], "stack")])


@router.get("/password")
def password_form(
    request: Request, who: Annotated[Session, Viewer(*STAFF_ROLES)], done: str = ""
) -> HTMLResponse:
    """The password change form."""
    notice = layout.notice("ok", _TEXT[page_lang(request)]["changed"]) if done else Safe("")
    return render(request, who, "修改密码", "Change password", _password_form(request, who, notice))


@router.post("/password")
def change_password(
    request: Request,
    who: Annotated[Session, Action(*STAFF_ROLES)],
    current: FormText = "",
    new: FormText = "",
    repeat: FormText = "",
) -> Response:
    """Replace the password; the person's other sessions end."""
    reg = registry_of(request)
    now = reg.now()
    if new != repeat:
        return error_page(request, who, RegistryError("password_mismatch"), f"{PREFIX}/password")

    def work(conn: Connection) -> None:
        accounts.change_password(conn, who.account, current, new, now)
        sessions.end_all(conn, who.account.username, now, keep=who.digest)

    try:
        reg.db.write(work)
    except RegistryError as e:
        return error_page(request, who, e, f"{PREFIX}/password")
    return redirect(request, f"{PREFIX}/password", done=1)
