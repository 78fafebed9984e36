"""Shared fixtures: an app on its own temporary database, its clients, and the CLI runner.

Every route needs a signed-in user (service.gate), so the clients come signed in:

    client          unit A's clerk (单位填报人员) — the default for API and form tests (the
                    finance bureau in modules listed in CLIENT_ROLE_BY_MODULE)
    bureau_client, admin_client
    anon_client     nobody
    login(app, who) a new client signed in as world.<who>: clerk_a, clerk_b, reviewer (主管部门 of
                    unit A), bureau (财政局), admin
    world           the units, departments and users behind them (unit A under department 1,
                    unit B under department 2); every user's password is PASSWORD
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path):
    from service import create_app
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_FAST": True})
    yield app
    app.extensions["jxdoc.db"].dispose()


PASSWORD = "Lüftung-盘点-2024!"  # noqa: S105 - the fixture users' password


class World:
    """Ids of the fixture organisation; users are loaded fresh where needed."""

    ROLES = {"clerk_a": "unit_clerk", "clerk_b": "unit_clerk", "reviewer": "department_reviewer",
             "bureau": "finance_bureau", "admin": "admin"}

    def __init__(self, app):
        from service.passwords import hash_password
        from storage.models import Department, Unit, User

        self.app = app
        with app.app_context():
            db = app.extensions["jxdoc.db"]
            hashed = hash_password(PASSWORD)
            with db.write() as session:
                d1, d2 = Department(code="D1", name="县教育局"), Department(code="D2", name="县卫生健康局")
                session.add_all([d1, d2])
                session.flush()
                a = Unit(code="A001", name="青溪县第一中学", department_id=d1.id)
                b = Unit(code="B001", name="青溪县人民医院", department_id=d2.id)
                session.add_all([a, b])
                session.flush()
                self.department_ids, self.unit_a, self.unit_b = (d1.id, d2.id), a.id, b.id
                homes = {"clerk_a": {"unit_id": a.id}, "clerk_b": {"unit_id": b.id},
                         "reviewer": {"department_id": d1.id}}
                self.users = {}
                for name, role in self.ROLES.items():
                    user = User(username=name, display_name=name, role=role, password_hash=hashed, active=True,
                                **homes.get(name, {}))
                    session.add(user)
                    session.flush()
                    self.users[name] = user.id

    def user(self, name):
        from storage.models import User

        with self.app.extensions["jxdoc.db"].read() as session:
            return session.get(User, self.users[name])


@pytest.fixture
def world(app):
    return World(app)


def login(app, world: World, who: str):
    """A test client whose session belongs to `who` (set directly: the sign-in form itself is
    tested in tests/service/test_auth.py)."""
    from service.sessions import open_session

    client = app.test_client()
    user = world.user(who)
    with app.app_context(), app.extensions["jxdoc.db"].write() as db_session:
        sid = open_session(db_session, user)
    with client.session_transaction() as session:
        session["uid"], session["nonce"], session["sid"] = user.id, user.session_nonce, sid
    return client


# Modules whose `client` acts for another role than unit A's clerk. The drafts API computes
# statistics over every unit's documents, which only the finance bureau (and admin) may read.
CLIENT_ROLE_BY_MODULE = {"tests.kinds.test_drafts": "bureau"}


@pytest.fixture
def client(request, app, world):
    return login(app, world, CLIENT_ROLE_BY_MODULE.get(request.module.__name__, "clerk_a"))


@pytest.fixture
def bureau_client(app, world):
    return login(app, world, "bureau")


@pytest.fixture
def admin_client(app, world):
    return login(app, world, "admin")


@pytest.fixture
def anon_client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


def load_sample(kind_id: str, name: str | None = None) -> dict:
    import kinds

    paths = kinds.get(kind_id).samples()
    if name:
        paths = [p for p in paths if p.stem == name]
    return json.loads(paths[0].read_text(encoding="utf-8"))
