"""What every list endpoint must show: pages walk each item once, in order, and the number of
SQL statements does not grow with the page size."""

from typing import Any

from httpx import AsyncClient

from tests.conftest import QueryCounter


async def assert_pages_and_query_count(
    client: AsyncClient,
    url: str,
    headers: dict[str, str],
    counter: QueryCounter,
    expected_ids: list[str],
    params: dict[str, Any] | None = None,
) -> None:
    params = params or {}
    seen: list[str] = []
    counts: list[int] = []
    cursor = None
    while True:
        page_params = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        counter.reset()
        response = await client.get(url, params=page_params, headers=headers)
        counts.append(counter.count)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected_ids
    assert len(set(counts)) == 1, counts

    by_limit = {}
    for limit in (1, 200):
        counter.reset()
        response = await client.get(url, params={**params, "limit": limit}, headers=headers)
        assert response.status_code == 200
        by_limit[limit] = counter.count
    assert by_limit[1] == by_limit[200], by_limit
    assert len(response.json()["items"]) == len(expected_ids)
