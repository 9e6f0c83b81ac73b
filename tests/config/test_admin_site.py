import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_names_the_admin_after_the_site(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    body = client.get("/admin/").content.decode()

    assert "Paperboy editors" in body
    assert "Papers, subscribers and digests" in body


def test_it_keeps_non_staff_out_of_the_admin(client):
    client.force_login(UserFactory(is_staff=False))

    response = client.get("/admin/papers/paper/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
