"""A path the API does not have answers JSON, like every other API error; a missing page keeps the site's page."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/no-such-list/", "/api/v1/clients/abc/", "/api/v1/clients/1/no-such-step/"])
def test_an_unknown_api_path_is_a_json_404(api_as_manager, path):
    response = api_as_manager.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["detail"] and body["detail"]  # DRF's own "Not found.", in the request's language


def test_an_unknown_page_is_the_sites_404(as_manager):
    response = as_manager.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
