"""The version an API write names: the ETag its client reads first (If-Match is required)."""


def if_match(client, url: str) -> dict:
    """Headers for an update or delete of `url`: the ETag the client reads now."""
    response = client.get(url)
    assert response.status_code == 200, response.content
    return {"If-Match": response["ETag"]}
