"""Reading gold annotations: one document (``seed.gold.json``) or a list of passages (``dev.gold.json``).

Each gold document carries ``types``, ``entities``, ``relations``, ``events``
and optionally ``also_true``; its text is either inline (``text``, with
``pub_date``) or in the file named by ``document``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ReadError
from ..paths import SEEDS_DIR
from ..records import Document


def read_gold(path: str | Path) -> list[tuple[dict, Document]]:
    """The gold documents of a file, each with the :class:`~kg.records.Document` to build.

    A passage with ``text`` becomes a document of that text dated ``pub_date``;
    otherwise the text is the file named by ``document``, looked up in the gold
    file's folder, then ``../seeds/``, then the project's ``seeds/``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.json"
    >>> _ = p.write_text('[{"id": "a", "text": "Kyiv.", "pub_date": "2023-01-02", "entities": []}]')
    >>> [(g["id"], d.date) for g, d in read_gold(p)]
    [('a', '2023-01-02')]
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReadError(f"{path}: cannot read gold annotations ({err}); give a seed.gold.json-format file") from err
    items = data if isinstance(data, list) else [data]
    out = []
    for n, gold in enumerate(items):
        if not isinstance(gold, dict) or not ("text" in gold or "document" in gold):
            raise ReadError(f"{path}: gold item {n} has neither 'text' nor 'document'; add the passage text")
        if "text" in gold:
            doc = Document(id=str(gold.get("id", n)), text=gold["text"], date=gold.get("pub_date"))
        else:
            text_path = _find_text(gold["document"], path.parent)
            doc = Document(id=text_path.name, text=text_path.read_text(encoding="utf-8-sig"), source=text_path.as_posix(), date=gold.get("pub_date"))
        out.append((gold, doc))
    return out


def _find_text(name: str, folder: Path) -> Path:
    places = [folder, folder.parent / "seeds", SEEDS_DIR]
    for place in places:
        if (place / name).is_file():
            return place / name
    raise ReadError(f"{name}: document text not found in {', '.join(str(p) for p in places)}; put it next to the gold file")
