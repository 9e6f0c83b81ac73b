import pytest

from config import health
from papers.search import search_index_path

pytestmark = pytest.mark.django_db


def test_it_answers_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
        "search_index": search_index_path(),
    }
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_naming_what_is_down(client, monkeypatch):
    def broker_down():
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert "Connection refused" in body["checks"]["broker"]


def test_it_reports_a_real_unreachable_broker(client, settings):
    from config.celery_app import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_it_refuses_post(client):
    assert client.post("/healthz").status_code == 405
