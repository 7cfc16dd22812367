"""Fixtures shared by the whole suite."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", groups=["Registry editors"])


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", groups=["Registry viewers"])


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
