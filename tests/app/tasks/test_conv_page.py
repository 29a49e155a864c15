"""The conv page's content is byte for byte what the Jinja macros rendered before the steps
and matrices were built in Python (app.render.steps_html): snapshots taken from that code.

Regenerate only for an intended change of the page:
``python -m tests.app.tasks.test_conv_page`` (writes tests/app/tasks/snapshots/conv_page_*.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

# The seed example (the page without a query), and three 3×3 filters over a padded 4×4 image
# with a bias per filter, ReLU and 2×2 max-pooling, in both languages (Russian: decimal commas).
PAGES = {
    "seed": "/conv",
    "padded": "/conv?image=1+-2+3+0%0A0+4+-1+2%0A3+3+-3+1%0A-2+0+5+1&filters=1+0+-1%0A2+0+-2%0A"
    "1+0+-1%0A---%0A0+1+0%0A1+-4+1%0A0+1+0%0A---%0A0.5+0+0%0A0+0.25+0%0A0+0+-1"
    "&bias=1+-2+0.5&padding=1&stride=1&pool_kind=max&pool_size=2",
    "padded_ru": "/conv?image=1+-2+3+0%0A0+4+-1+2%0A3+3+-3+1%0A-2+0+5+1&filters=1+0+-1%0A2+0+-2%0A"
    "1+0+-1%0A---%0A0+1+0%0A1+-4+1%0A0+1+0%0A---%0A0.5+0+0%0A0+0.25+0%0A0+0+-1"
    "&bias=1+-2+0.5&padding=1&stride=1&pool_kind=avg&pool_size=2&lang=ru&digits=2",
}


def page_content(client: TestClient, path: str) -> str:
    """The page's ``<main>`` (title, form, answer maps, conv data, every step)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    text = response.text
    main = text[text.index("<main>") : text.index("</main>") + len("</main>")]
    # the PyTorch view's run: the same page on a server with a GPU says CUDA
    for gpu in ("device: cuda", "the CUDA:", "(CUDA)"):
        main = main.replace(gpu, gpu.replace("cuda", "cpu").replace("CUDA", "CPU"))
    return main


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_is_unchanged(client: TestClient, name: str) -> None:
    expected = (SNAPSHOTS / f"conv_page_{name}.html").read_text(encoding="utf-8")
    assert page_content(client, PAGES[name]) == expected


if __name__ == "__main__":
    from app.main import app

    with TestClient(app) as test_client:
        for page, url in PAGES.items():
            path = SNAPSHOTS / f"conv_page_{page}.html"
            path.write_text(page_content(test_client, url), encoding="utf-8")
