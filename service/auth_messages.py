"""Every message the sign-in, session, gate and password modules show, in one place."""

from __future__ import annotations

MIN_PASSWORD_LENGTH = 10


class Messages:
    """Every message these modules show, in one place."""

    bad_credentials = "用户名或密码不正确。"
    rate_limited = "登录失败次数过多，请{seconds}秒后再试。"
    inactive = "该账号已停用，请联系管理员。"
    password_short = f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。"
    password_long = "密码不能超过128个字符。"  # noqa: S105
    password_username = "密码不能包含用户名。"  # noqa: S105
    password_simple = "密码过于简单：请混合使用字母、数字或符号，不要用重复或连续的字符。"  # noqa: S105
    password_mismatch = "两次输入的密码不一致。"  # noqa: S105
    wrong_role = "您的角色（{role}）不能进行此操作。"
    invitation_invalid = "邀请链接无效或已过期，请联系管理员重新发送。"
    token_invalid = "API令牌无效、已过期或已吊销。"  # noqa: S105
    token_pages = "API令牌只能用于 /api/ 接口；网页请登录后使用。"  # noqa: S105
    admin_session = "管理员操作需要登录会话，不能使用API令牌。"
