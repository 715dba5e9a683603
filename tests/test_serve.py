"""`timesheet serve` in an empty directory comes up on the SQLite default."""

import re
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.servers import environment_without, serving


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = environment_without("DATABASE_URL", "ENVIRONMENT")
    with serving(cwd=tmp_path, env=env) as (base, _process):
        yield base, tmp_path


def test_serve_in_an_empty_directory(served) -> None:  # type: ignore[no-untyped-def]
    base, directory = served
    assert httpx.get(f"{base}/readyz").status_code == 200
    assert (directory / "timesheet.db").exists()

    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs.text)
    assert assets
    for asset in assets:
        url = urljoin(f"{base}/docs", asset)
        assert url.startswith(base), f"/docs loads {asset} from another host"
        assert httpx.get(url).status_code == 200
    assert "https://" not in docs.text and "http://" not in docs.text
